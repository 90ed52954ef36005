"""The event as notifiers see it: its public JSON envelope plus its place in an alert's life, and
the plain HTTP request a notifier turns it into."""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

USER_AGENT = "model-monitor-notifier/0.1"

# A word that reads better than the event type's own words.
_TITLES = {
    "drift.detected": "Drift detected",
    "drift.ongoing": "Drift ongoing",
    "drift.resolved": "Drift resolved",
    "run.failed": "Monitor run failed",
    "notification.test": "Test notification",
}


class Phase(StrEnum):
    """Where an event stands in the life of the condition its group key names."""

    FIRING = "firing"  # the condition holds (onset, still holding, failing again)
    RESOLVED = "resolved"  # the condition stopped
    NOTICE = "notice"  # a one-off fact (a retraining finished, a rollout stepped)


@dataclass(frozen=True, slots=True)
class Notification:
    """One event on its way to one channel: the envelope every channel kind starts from
    (`id`, `type`, `time`, `model`, `severity`, `dedup_key`, `data`, `dashboard_url`)."""

    envelope: Mapping[str, Any]
    phase: Phase

    @property
    def id(self) -> str:
        return str(self.envelope["id"])

    @property
    def type(self) -> str:
        return str(self.envelope["type"])

    @property
    def severity(self) -> str:
        return str(self.envelope["severity"])

    @property
    def model(self) -> str | None:
        model = self.envelope.get("model")
        return None if model is None else str(model)

    @property
    def data(self) -> Mapping[str, Any]:
        data = self.envelope.get("data")
        return data if isinstance(data, Mapping) else {}

    @property
    def dashboard_url(self) -> str | None:
        url = self.envelope.get("dashboard_url")
        return None if url is None else str(url)

    @property
    def title(self) -> str:
        """'Drift detected', 'Retrain failed', 'Rollout rolled back'."""
        return _TITLES.get(self.type) or self.type.replace(".", " ").replace("_", " ").capitalize()

    @property
    def headline(self) -> str:
        """'Drift detected: churn / drift' (model, then monitor where there is one)."""
        subject = " / ".join(
            str(part) for part in (self.model, self.data.get("monitor")) if part is not None
        )
        return f"{self.title}: {subject}" if subject else self.title

    @property
    def drifted_results(self) -> list[Mapping[str, Any]]:
        """The drift results that drifted (what a drift event's `data.results` flags)."""
        results = self.data.get("results")
        if not isinstance(results, list):
            return []
        return [r for r in results if isinstance(r, Mapping) and r.get("drifted")]


def format_number(value: object) -> str:
    """Counts in full, statistics in three significant figures, anything else as it is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "n/a" if value is None else str(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:.3g}"


def describe_result(result: Mapping[str, Any]) -> str:
    """'x1: psi 0.42 (threshold 0.2, p 3.1e-05)' for one drifted column."""
    parts = [f"threshold {format_number(result.get('threshold'))}"]
    if result.get("p_value") is not None:
        parts.append(f"p {format_number(result.get('p_value'))}")
    return (
        f"{result.get('column')}: {result.get('test')} {format_number(result.get('statistic'))} "
        f"({', '.join(parts)})"
    )


@dataclass(frozen=True, slots=True)
class OutboundRequest:
    """A POST a channel makes. `secrets` are the values the sender must keep out of every error
    message and log line (the URL itself may be one)."""

    url: str
    body: bytes
    headers: Mapping[str, str]
    secrets: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"OutboundRequest(<{len(self.body)} bytes>)"  # the URL may be a secret


def json_request(
    url: str,
    payload: Mapping[str, Any],
    *,
    secrets: tuple[str, ...],
    headers: Mapping[str, str] | None = None,
) -> OutboundRequest:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return OutboundRequest(
        url=url,
        body=body,
        headers={"content-type": "application/json", "user-agent": USER_AGENT, **(headers or {})},
        secrets=secrets,
    )
