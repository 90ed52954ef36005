"""Slack incoming webhooks: a Block Kit message (header, facts, drifted features with their
statistics and thresholds, event context, a dashboard button) with a plain `text` fallback.

Limits from Slack's Block Kit reference: header text 150 characters, section text 3000, section
fields 10 of 2000 each, button text 75, at most 50 blocks.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from triggers.notifications.envelope import (
    Notification,
    OutboundRequest,
    Phase,
    describe_result,
    format_number,
    json_request,
)

HEADER_LIMIT = 150
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
MAX_FIELDS = 10
LISTED_FEATURES = 15

_ICONS = {Phase.FIRING: ":large_orange_circle:", Phase.RESOLVED: ":white_check_mark:"}


def escape(text: str) -> str:
    """Slack's mrkdwn control characters (&, <, >) as entities, so names cannot inject links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _icon(notification: Notification) -> str:
    if notification.phase is Phase.FIRING and notification.severity == "critical":
        return ":red_circle:"
    return _ICONS.get(notification.phase, ":information_source:")


def _facts(notification: Notification) -> list[str]:
    data = notification.data
    facts = [f"*Severity*\n{escape(notification.severity)}"]
    if notification.model is not None:
        facts.append(f"*Model*\n{escape(notification.model)}")
    if "monitor" in data:
        facts.append(f"*Monitor*\n{escape(str(data['monitor']))}")
    window = data.get("window")
    if isinstance(window, Mapping):
        facts.append(
            f"*Window*\n{escape(str(window.get('start')))} to {escape(str(window.get('end')))}"
        )
    if "rows" in data:
        facts.append(f"*Rows*\n{format_number(data['rows'])}")
    shown = {"monitor", "window", "rows", "results", "drifting", "error", "run_id"}
    for key, value in data.items():
        if key not in shown and isinstance(value, str | int | float | bool):
            facts.append(f"*{escape(key)}*\n{escape(str(value))}")
    return [clip(fact, FIELD_LIMIT) for fact in facts[:MAX_FIELDS]]


def _drift_section(notification: Notification) -> dict[str, Any] | None:
    results = notification.drifted_results
    if not results:
        if notification.type.startswith("drift.") and notification.phase is Phase.RESOLVED:
            return _mrkdwn_section("Every monitored column is back within its thresholds.")
        return None
    lines = [f"• `{escape(describe_result(r))}`" for r in results[:LISTED_FEATURES]]
    if len(results) > LISTED_FEATURES:
        lines.append(f"…and {len(results) - LISTED_FEATURES} more in the dashboard")
    return _mrkdwn_section(f"*Drifted columns ({len(results)})*\n" + "\n".join(lines))


def _mrkdwn_section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_LIMIT)}}


def slack_message(notification: Notification) -> dict[str, Any]:
    """The JSON body of a Slack incoming-webhook call for `notification`."""
    header = f"{_icon(notification)} {notification.headline}"
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": clip(header, HEADER_LIMIT), "emoji": True},
        },
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": f} for f in _facts(notification)],
        },
    ]
    drift = _drift_section(notification)
    if drift is not None:
        blocks.append(drift)
    error = notification.data.get("error")
    if error:
        blocks.append(_mrkdwn_section(f"*Error*\n```{escape(str(error))}```"))
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"`{notification.type}` · event `{notification.id}` · "
                    f"{escape(str(notification.envelope.get('time')))}",
                }
            ],
        }
    )
    if notification.dashboard_url:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "open_dashboard",
                        "text": {"type": "plain_text", "text": "Open dashboard"},
                        "url": notification.dashboard_url,
                    }
                ],
            }
        )
    drifting = ", ".join(str(r.get("column")) for r in notification.drifted_results)
    fallback = f"{notification.headline} ({notification.severity})"
    return {"text": f"{fallback}: {drifting}" if drifting else fallback, "blocks": blocks}


def slack_request(
    notification: Notification,
    secrets: Mapping[str, str],
    options: Mapping[str, str],
    now: datetime,
) -> OutboundRequest:
    url = secrets["webhook_url"]
    return json_request(url, slack_message(notification), secrets=(url,))
