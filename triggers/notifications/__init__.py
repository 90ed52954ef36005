"""Notifiers: what a Slack, PagerDuty or signed-webhook channel sends for an event, when it sends
it (Alertmanager-style grouping), how it retries, and the HTTP call itself.

Pure apart from `http`: event envelopes (plain dicts) in, requests and decisions out. The service
in `monitor.notifications` keeps the state and calls these.
"""

from triggers.notifications.envelope import Notification, OutboundRequest, Phase
from triggers.notifications.kinds import REQUEST_BUILDERS, build_request

__all__ = ["REQUEST_BUILDERS", "Notification", "OutboundRequest", "Phase", "build_request"]
