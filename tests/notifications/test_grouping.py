"""Alertmanager-style grouping decisions: group_wait for a new group, group_interval between
notifications, repeat_interval for unchanged ones, later events superseding waiting ones."""

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from triggers.notifications import Phase
from triggers.notifications.grouping import Decision, GroupHistory, Grouping, Notified, decide

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
GROUPING = Grouping(
    group_wait=timedelta(seconds=30),
    group_interval=timedelta(minutes=5),
    repeat_interval=timedelta(hours=4),
)
OFF = Grouping(timedelta(0), timedelta(0), timedelta(0))


NEW_GROUP = GroupHistory()


def _decide(phase: Phase, now: datetime, history: GroupHistory = NEW_GROUP) -> Decision:
    return decide(GROUPING, phase=phase, now=now, history=history)


def test_first_notification_waits_group_wait() -> None:
    assert _decide(Phase.FIRING, T0).send_at == T0 + timedelta(seconds=30)


def test_a_change_waits_for_group_interval_after_the_last_notification() -> None:
    history = GroupHistory(Notified(Phase.FIRING, T0))
    decision = _decide(Phase.RESOLVED, T0 + timedelta(minutes=1), history)
    assert decision.send_at == T0 + timedelta(minutes=5)


def test_a_change_after_group_interval_goes_at_once() -> None:
    history = GroupHistory(Notified(Phase.FIRING, T0))
    now = T0 + timedelta(hours=1)
    assert _decide(Phase.RESOLVED, now, history).send_at == now


def test_unchanged_alert_is_suppressed_until_repeat_interval() -> None:
    history = GroupHistory(Notified(Phase.FIRING, T0))
    decision = _decide(Phase.FIRING, T0 + timedelta(hours=1), history)
    assert decision.suppressed
    assert "repeat_interval" in decision.reason


def test_unchanged_alert_is_repeated_after_repeat_interval() -> None:
    history = GroupHistory(Notified(Phase.FIRING, T0))
    now = T0 + timedelta(hours=4)
    assert _decide(Phase.FIRING, now, history).send_at == now


def test_a_later_event_supersedes_the_waiting_one_and_keeps_its_flush_time() -> None:
    flush = T0 + timedelta(seconds=30)
    decision = _decide(Phase.FIRING, T0 + timedelta(seconds=5), GroupHistory(None, flush))
    assert (decision.send_at, decision.supersedes_waiting) == (flush, True)


def test_flapping_back_to_what_was_notified_sends_nothing() -> None:
    # Notified firing; a resolution waits for group_interval; firing again before the flush.
    history = GroupHistory(Notified(Phase.FIRING, T0), T0 + timedelta(minutes=5))
    decision = _decide(Phase.FIRING, T0 + timedelta(minutes=2), history)
    assert decision.suppressed and decision.supersedes_waiting


def test_resolution_of_an_alert_never_notified_is_not_sent() -> None:
    assert _decide(Phase.RESOLVED, T0).suppressed


def test_notices_are_sent_at_once_and_never_grouped() -> None:
    history = GroupHistory(Notified(Phase.NOTICE, T0), T0 + timedelta(minutes=5))
    decision = _decide(Phase.NOTICE, T0 + timedelta(seconds=1), history)
    assert (decision.send_at, decision.supersedes_waiting) == (T0 + timedelta(seconds=1), False)


def test_grouping_off_sends_every_event_at_once() -> None:
    history = GroupHistory(Notified(Phase.FIRING, T0))
    decision = decide(OFF, phase=Phase.FIRING, now=T0, history=history)
    assert decision.send_at == T0


def test_negative_intervals_are_refused() -> None:
    with pytest.raises(ValueError, match="group_interval must not be negative"):
        Grouping(group_interval=timedelta(seconds=-1))


def test_twenty_flapping_events_page_at_most_once_per_group_interval() -> None:
    """Replays the fan-out's bookkeeping: drift on and off every minute for 20 minutes."""
    sent: list[tuple[datetime, Phase]] = []
    waiting: tuple[datetime, Phase] | None = None
    for minute in range(20):
        now = T0 + timedelta(minutes=minute)
        if waiting is not None and waiting[0] <= now:
            sent.append(waiting)
            waiting = None
        notified = Notified(sent[-1][1], sent[-1][0]) if sent else None
        history = GroupHistory(notified, waiting[0] if waiting else None)
        phase = Phase.FIRING if minute % 2 == 0 else Phase.RESOLVED
        decision = _decide(phase, now, history)
        waiting = None if decision.send_at is None else (decision.send_at, phase)
        if waiting is not None and waiting[0] <= now:
            sent.append(waiting)
            waiting = None
    assert len(sent) <= 1 + (20 * 60) // (5 * 60)
    assert all(a[1] != b[1] for a, b in pairwise(sent))
