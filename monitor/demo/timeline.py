"""The demo's live timeline: the control plane's events and the alerts the receiver got, printed
as they happen, each with the time since the demo started."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from monitor.demo.data import MODEL
from monitor.demo.receiver import WebhookReceiver

SUMMARY_KEYS = (
    "monitor",
    "drifting",
    "metric",
    "realized",
    "model_version",
    "new_version",
    "reference_id",
    "weight",
    "reason",
    "error",
)


@dataclass
class Timeline:
    """Collects events in the order they happened and echoes each once."""

    api: httpx.Client
    receiver: WebhookReceiver
    echo: Callable[[str], None]
    started: float = field(default_factory=time.monotonic)
    seen: set[str] = field(default_factory=set)
    events: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        self.echo(f"{self._clock()}  {text}")

    def poll(self) -> None:
        answer = self.api.get("/api/v1/events", params={"model": MODEL, "limit": 1000})
        answer.raise_for_status()
        for event in reversed(answer.json()["data"]):  # newest first on the wire
            if event["id"] in self.seen:
                continue
            self.seen.add(event["id"])
            self.events.append(event)
            self.note(f"{event['type']:<22} {_summary(event.get('data') or {})}")
        while not self.receiver.deliveries.empty():
            delivery = self.receiver.deliveries.get()
            self.alerts.append(delivery.event_type)
            check = "signature verified" if delivery.signature_ok else "BAD SIGNATURE"
            self.note(f"{'alert delivered':<22} webhook got {delivery.event_type} ({check})")

    def happened(
        self,
        event_type: str,
        *,
        after: int = 0,
        where: Callable[[dict[str, Any]], bool] = lambda _: True,
    ) -> dict[str, Any] | None:
        """The first `event_type` that `where` accepts among the events after the first
        `after` ones."""
        return next((e for e in self.events[after:] if e["type"] == event_type and where(e)), None)

    def _clock(self) -> str:
        elapsed = int(time.monotonic() - self.started)
        return f"[{elapsed // 60}:{elapsed % 60:02d}]"


def _summary(data: dict[str, Any]) -> str:
    parts = []
    for key in SUMMARY_KEYS:
        value = data.get(key)
        if value in (None, "", []):
            continue
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        parts.append(f"{key}={shown}")
    return " ".join(parts)
