"""Which request each channel kind makes: one builder per kind, all with the same signature."""

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from triggers.notifications.envelope import Notification, OutboundRequest
from triggers.notifications.pagerduty import pagerduty_request
from triggers.notifications.slack import slack_request
from triggers.notifications.webhook import webhook_request


class RequestBuilder(Protocol):
    def __call__(
        self,
        notification: Notification,
        secrets: Mapping[str, str],
        options: Mapping[str, str],
        now: datetime,
    ) -> OutboundRequest: ...


REQUEST_BUILDERS: Mapping[str, RequestBuilder] = {
    "slack": slack_request,
    "pagerduty": pagerduty_request,
    "webhook": webhook_request,
}


def build_request(
    kind: str,
    notification: Notification,
    *,
    secrets: Mapping[str, str],
    options: Mapping[str, str],
    now: datetime,
) -> OutboundRequest:
    """The request a channel of `kind` makes for `notification` at `now`."""
    try:
        builder = REQUEST_BUILDERS[kind]
    except KeyError:
        raise ValueError(
            f"unknown channel kind {kind!r}; known: {sorted(REQUEST_BUILDERS)}"
        ) from None
    return builder(notification, secrets, options, now)
