"""Which events start a retraining: event types, a minimum severity, and the models covered."""

from dataclasses import dataclass

# Mirrors monitor.entities.event.Severity, least grave first (triggers never import monitor).
SEVERITY_ORDER = ("info", "warning", "error", "critical")


def severity_rank(severity: str) -> int:
    """Position of `severity` in SEVERITY_ORDER; -1 for a severity this version does not know."""
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else -1


@dataclass(frozen=True, slots=True)
class TriggerPolicy:
    """Events of one of `event_types`, at `min_severity` or graver, about one of `models`
    (every model when `models` is None), raised by one of `monitors` (any when None).

    >>> policy = TriggerPolicy(("drift.detected",), "warning", ("churn",))
    >>> policy.matches(event_type="drift.detected", severity="critical", model="churn")
    True
    >>> policy.matches(event_type="drift.detected", severity="info", model="churn")
    False
    """

    event_types: tuple[str, ...] = ("drift.detected",)
    min_severity: str = "warning"
    models: tuple[str, ...] | None = None
    monitors: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not self.event_types:
            raise ValueError("event_types: name at least one event type, e.g. 'drift.detected'")
        if self.min_severity not in SEVERITY_ORDER:
            raise ValueError(
                f"min_severity: {self.min_severity!r} is not a severity; use one of "
                f"{', '.join(SEVERITY_ORDER)}"
            )

    def matches(
        self, *, event_type: str, severity: str, model: str | None, monitor: str | None = None
    ) -> bool:
        if event_type not in self.event_types:
            return False
        if severity_rank(severity) < severity_rank(self.min_severity):
            return False
        if self.monitors is not None and monitor not in self.monitors:
            return False
        return self.models is None or model in self.models
