"""PagerDuty Events API v2: `trigger` while a condition fires, `resolve` when it stops, both under
one `dedup_key` per model and monitor, so PagerDuty keeps one incident per alert.

Format (developer.pagerduty.com, "Send an Alert Event"): `routing_key` (32 characters),
`event_action` in trigger | acknowledge | resolve, `dedup_key` (at most 255 characters); a trigger
also needs `payload.summary` (at most 1024), `payload.source` and `payload.severity` in
critical | error | warning | info.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from triggers.notifications.envelope import (
    Notification,
    OutboundRequest,
    Phase,
    describe_result,
    json_request,
)

EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
DEFAULT_SOURCE = "model-monitor"
SUMMARY_LIMIT = 1024
DEDUP_KEY_LIMIT = 255

# Our severities and PagerDuty's happen to share names; the table keeps that an explicit choice.
SEVERITIES = {"critical": "critical", "error": "error", "warning": "warning", "info": "info"}


def dedup_key(notification: Notification) -> str:
    """The event's own dedup key (`<model>/<monitor>` for drift), else its id: one incident each."""
    key = notification.envelope.get("dedup_key") or notification.id
    return str(key)[:DEDUP_KEY_LIMIT]


def summary(notification: Notification) -> str:
    text = notification.headline
    drifted = notification.drifted_results
    if drifted:
        text += " - " + "; ".join(describe_result(r) for r in drifted)
    elif notification.data.get("error"):
        text += f" - {notification.data['error']}"
    return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 1] + "…"


def pagerduty_event(
    notification: Notification, *, routing_key: str, source: str = DEFAULT_SOURCE
) -> dict[str, Any]:
    """The JSON body of an Events API v2 call for `notification`."""
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "resolve" if notification.phase is Phase.RESOLVED else "trigger",
        "dedup_key": dedup_key(notification),
    }
    if event["event_action"] == "resolve":
        return event
    data = notification.data
    event["payload"] = {
        "summary": summary(notification),
        "source": source,
        "severity": SEVERITIES.get(notification.severity, "error"),
        "timestamp": notification.envelope.get("time"),
        "component": notification.model or "model-monitor",
        "group": str(data.get("monitor", notification.type.split(".")[0])),
        "class": notification.type,
        "custom_details": {"event_id": notification.id, "event_type": notification.type, **data},
    }
    event["client"] = "Model monitor"
    if notification.dashboard_url:
        event["client_url"] = notification.dashboard_url
        event["links"] = [{"href": notification.dashboard_url, "text": "Open in the dashboard"}]
    return event


def pagerduty_request(
    notification: Notification,
    secrets: Mapping[str, str],
    options: Mapping[str, str],
    now: datetime,
) -> OutboundRequest:
    routing_key = secrets["routing_key"]
    body = pagerduty_event(
        notification,
        routing_key=routing_key,
        source=options.get("source", DEFAULT_SOURCE),
    )
    return json_request(options.get("events_url", EVENTS_URL), body, secrets=(routing_key,))
