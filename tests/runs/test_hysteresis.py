"""Drift state opens and closes only after enough windows in a row."""

from monitor.entities.drift_state import DriftStatus
from monitor.runs.hysteresis import Streaks, Transition, advance


def _walk(verdicts: list[bool], onset_after: int, resolve_after: int) -> list[Transition | None]:
    state = Streaks(DriftStatus.OK)
    transitions = []
    for drifted in verdicts:
        state, transition = advance(
            state, drifted, onset_after=onset_after, resolve_after=resolve_after
        )
        transitions.append(transition)
    return transitions


def test_onset_waits_for_the_configured_drifted_streak() -> None:
    assert _walk([True, True, True], onset_after=3, resolve_after=1) == [
        None,
        None,
        Transition.ONSET,
    ]


def test_an_interrupted_streak_starts_again() -> None:
    assert _walk([True, False, True, True], onset_after=2, resolve_after=1) == [
        None,
        None,
        None,
        Transition.ONSET,
    ]


def test_resolution_waits_for_the_configured_clean_streak() -> None:
    assert _walk([True, False, False], onset_after=1, resolve_after=2) == [
        Transition.ONSET,
        None,
        Transition.RESOLVED,
    ]


def test_flapping_verdicts_never_open_with_onset_after_two() -> None:
    assert set(_walk([True, False] * 10, onset_after=2, resolve_after=2)) == {None}
