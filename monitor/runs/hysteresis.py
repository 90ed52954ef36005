"""Drift state with hysteresis: a column opens after N drifted windows in a row and closes after
M clean ones, so a verdict that flips every run does not flap the alert."""

from dataclasses import dataclass
from enum import StrEnum

from monitor.entities.drift_state import DriftStatus


class Transition(StrEnum):
    ONSET = "onset"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class Streaks:
    status: DriftStatus
    drifted_streak: int = 0
    clean_streak: int = 0


def advance(
    current: Streaks, drifted: bool, *, onset_after: int, resolve_after: int
) -> tuple[Streaks, Transition | None]:
    """The state after one more window, and the transition it caused, if any.

    >>> state, change = advance(Streaks(DriftStatus.OK), True, onset_after=1, resolve_after=2)
    >>> state.status.value, change.value
    ('drifting', 'onset')
    """
    drifted_streak = current.drifted_streak + 1 if drifted else 0
    clean_streak = 0 if drifted else current.clean_streak + 1
    status = current.status
    transition = None
    if status is DriftStatus.OK and drifted_streak >= onset_after:
        status, transition = DriftStatus.DRIFTING, Transition.ONSET
    elif status is DriftStatus.DRIFTING and clean_streak >= resolve_after:
        status, transition = DriftStatus.OK, Transition.RESOLVED
    return Streaks(status, drifted_streak, clean_streak), transition
