"""Whether, and when, a channel tells its receiver about an event: grouping in the manner of
Prometheus Alertmanager, per channel and group key (an event's dedup key, `<model>/<monitor>` for
drift).

- `group_wait`: the first notification of a group waits this long, so what follows at once
  (an onset, then more drifted columns) goes out as one message.
- `group_interval`: after a notification, the next one for the group waits until this long after
  it; the events that come meanwhile collapse into the latest one.
- `repeat_interval`: a notification that says the same as the last one (still firing) is sent
  again only this long after it.

Unlike Alertmanager, a group is remembered after it resolves, so a condition that flaps pages at
most once per `group_interval`. Notices (one-off facts) are never grouped.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from triggers.notifications.envelope import Phase


@dataclass(frozen=True, slots=True)
class Grouping:
    group_wait: timedelta = timedelta(seconds=30)
    group_interval: timedelta = timedelta(minutes=5)
    repeat_interval: timedelta = timedelta(hours=4)

    def __post_init__(self) -> None:
        for name in ("group_wait", "group_interval", "repeat_interval"):
            if getattr(self, name) < timedelta(0):
                raise ValueError(f"{name} must not be negative")


@dataclass(frozen=True, slots=True)
class Notified:
    """The group's last notification the receiver heard, or is hearing (sent, or due now)."""

    phase: Phase
    at: datetime  # when it was due: its flush time


@dataclass(frozen=True, slots=True)
class GroupHistory:
    notified: Notified | None = None
    # The flush time of a notification still waiting for its group_wait / group_interval.
    waiting_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    send_at: datetime | None  # None: suppressed
    supersedes_waiting: bool  # the waiting notification is dropped for this one
    reason: str

    @property
    def suppressed(self) -> bool:
        return self.send_at is None


def decide(grouping: Grouping, *, phase: Phase, now: datetime, history: GroupHistory) -> Decision:
    """What to do with a new event of `phase` for a group with `history`, at `now`."""
    if phase is Phase.NOTICE:
        return Decision(now, False, "notices are sent as they come")
    supersedes = history.waiting_until is not None
    last = history.notified
    if last is None:
        if phase is Phase.RESOLVED:
            return Decision(None, supersedes, "resolved before anything was notified")
        send_at = history.waiting_until or now + grouping.group_wait
        return Decision(send_at, supersedes, "first notification of the group (group_wait)")
    flush = history.waiting_until or max(now, last.at + grouping.group_interval)
    if phase is not last.phase:
        return Decision(flush, supersedes, f"{last.phase} -> {phase} (group_interval)")
    if flush - last.at >= grouping.repeat_interval:
        return Decision(flush, supersedes, f"still {phase}: repeated (repeat_interval)")
    return Decision(
        None,
        supersedes,
        f"still {phase} as notified at {last.at.isoformat()}; repeated only after "
        f"repeat_interval ({grouping.repeat_interval.total_seconds():g} s)",
    )
