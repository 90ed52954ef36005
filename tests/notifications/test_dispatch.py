"""The dispatcher on both stores: fan-out through filters, signed sends, retries with backoff,
dead letters, redelivery, rate limits, Retry-After, order per dedup key, and crash recovery."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from standardwebhooks import Webhook

from monitor.entities.channel import Channel
from monitor.entities.event import EventType, Severity
from monitor.notifications.fanout import fan_out
from monitor.notifications.sending import claim, lease_for
from monitor.services.deliveries import redeliver
from monitor.settings import Settings
from tests.notifications.helpers import (
    SECRET,
    add_event,
    add_model,
    add_webhook,
    attempts,
    deliveries,
    dispatch_until,
    pass_at,
)
from tests.notifications.receiver import Answer, Receiver, fails_first

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _statuses(engine: Engine) -> list[str]:
    return [d.status for d in deliveries(engine)]


def test_each_event_reaches_the_webhook_signed_with_its_id(
    engine: Engine, fast: Settings, receiver: Receiver
) -> None:
    add_webhook(engine, receiver.url)
    ids = [add_event(engine, dedup_key=f"churn/m{i}") for i in range(3)]
    report = pass_at(engine, fast, datetime.now(UTC))
    assert (report.fanned_out, report.attempted, report.delivered) == (3, 3, 3)
    verified = [Webhook(SECRET).verify(r.body, r.headers) for r in receiver.accepted()]
    assert [body["id"] for body in verified] == ids
    assert [r.headers["webhook-id"] for r in receiver.accepted()] == ids
    assert _statuses(engine) == ["delivered"] * 3


def test_filters_choose_the_events_a_channel_receives(
    engine: Engine, fast: Settings, receiver: Receiver
) -> None:
    add_model(engine, "churn")
    add_model(engine, "fraud")
    filters = {"event_types": ["drift.detected"], "models": ["churn"], "min_severity": "warning"}
    add_webhook(engine, receiver.url, filters=filters)
    wanted = add_event(engine, model="churn", severity=Severity.CRITICAL)
    add_event(engine, model="churn", severity=Severity.INFO)
    add_event(engine, EventType.RUN_FAILED, model="churn", severity=Severity.ERROR)
    add_event(engine, model="fraud")
    add_event(engine)  # no model
    pass_at(engine, fast, T0)
    assert [r.headers["webhook-id"] for r in receiver.requests] == [wanted]
    assert len(deliveries(engine)) == 1


def test_5xx_is_retried_with_backoff_until_delivered_and_every_attempt_is_logged(
    engine: Engine, fast: Settings, receiver: Receiver
) -> None:
    receiver.script = fails_first(2)
    add_webhook(engine, receiver.url)
    add_event(engine)
    dispatch_until(engine, fast, lambda: _statuses(engine) == ["delivered"])
    log = attempts(engine, deliveries(engine)[0].id)  # type: ignore[arg-type]
    assert [(a.number, a.outcome, a.status_code) for a in log] == [
        (1, "failed", 503),
        (2, "failed", 503),
        (3, "delivered", 200),
    ]
    assert log[0].error == "HTTP 503 Service Unavailable"
    assert all(a.latency_ms is not None and a.latency_ms > 0 for a in log)
    assert log[1].started_at - log[0].started_at >= timedelta(seconds=0.005)  # backed off


def test_a_4xx_is_dead_at_once_without_a_retry(
    engine: Engine, fast: Settings, receiver: Receiver
) -> None:
    receiver.script = lambda _: Answer(404, body=b"no_service")
    add_webhook(engine, receiver.url)
    add_event(engine)
    pass_at(engine, fast, T0)
    pass_at(engine, fast, T0 + timedelta(hours=1))
    assert len(receiver.requests) == 1
    dead = deliveries(engine)[0]
    assert dead.status == "dead"
    assert dead.note == ("dead: HTTP 404 Not Found is not retried; fix the channel, then redeliver")


def test_a_spent_retry_budget_dead_letters_the_delivery(
    engine: Engine, fast: Settings, receiver: Receiver
) -> None:
    receiver.script = lambda _: Answer(503)
    add_webhook(engine, receiver.url)
    add_event(engine)
    dispatch_until(engine, fast, lambda: _statuses(engine) == ["dead"])
    assert len(receiver.requests) == fast.delivery_max_attempts
    assert "the retry budget is spent (4 attempts" in deliveries(engine)[0].note


def test_redelivery_sends_a_dead_delivery_again_under_the_same_id(
    engine: Engine, fast: Settings, receiver: Receiver
) -> None:
    receiver.script = fails_first(1, status=410)
    add_webhook(engine, receiver.url)
    add_event(engine)
    pass_at(engine, fast, T0)
    with Session(engine) as session:
        queued = redeliver(session=session, delivery_id=deliveries(engine)[0].id, now=T0)  # type: ignore[arg-type]
    assert (queued.status, queued.attempts) == ("pending", 0)
    pass_at(engine, fast, T0 + timedelta(seconds=1))
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert _statuses(engine) == ["delivered"]


def test_a_429_with_retry_after_holds_the_whole_channel_back(
    engine: Engine, fast: Settings, receiver: Receiver
) -> None:
    receiver.script = fails_first(1, status=429, **{"Retry-After": "30"})
    add_webhook(engine, receiver.url)
    add_event(engine, dedup_key="a")
    add_event(engine, dedup_key="b")
    pass_at(engine, fast, T0)
    pass_at(engine, fast, T0 + timedelta(seconds=20))
    assert [r.status for r in receiver.requests] == [429]
    pass_at(engine, fast, T0 + timedelta(seconds=31))
    assert [r.status for r in receiver.requests] == [429, 200, 200]


def test_the_rate_limit_spreads_sends_over_passes(
    engine: Engine, fast: Settings, receiver: Receiver
) -> None:
    settings = fast.model_copy(update={"delivery_poll_seconds": 1.0})
    add_webhook(engine, receiver.url, rate_limit_per_second=1)
    for key in "abc":
        add_event(engine, dedup_key=key)
    sent = []
    for second in (0, 0, 1, 2):
        pass_at(engine, settings, T0 + timedelta(seconds=second))
        sent.append(len(receiver.requests))
    assert sent == [1, 1, 2, 3]


def test_a_later_event_of_a_group_waits_for_the_earlier_one(
    engine: Engine, fast: Settings, receiver: Receiver
) -> None:
    receiver.script = fails_first(1)
    add_webhook(engine, receiver.url)
    onset = add_event(engine, dedup_key="churn/drift")
    other = add_event(engine, dedup_key="fraud/drift")
    resolved = add_event(engine, EventType.DRIFT_RESOLVED, dedup_key="churn/drift")
    pass_at(engine, fast, T0)
    assert [r.headers["webhook-id"] for r in receiver.accepted()] == [other]
    pass_at(engine, fast, T0 + timedelta(seconds=1))
    assert [r.headers["webhook-id"] for r in receiver.accepted()] == [other, onset, resolved]


def test_a_delivery_whose_sender_died_is_sent_again_after_its_lease(
    engine: Engine, fast: Settings, receiver: Receiver
) -> None:
    add_webhook(engine, receiver.url)
    add_event(engine)
    with Session(engine) as session:
        fan_out(session, now=T0, limit=10)
    pending = deliveries(engine)[0]
    with Session(engine) as session:  # claimed, then the process died before sending
        channel = session.get_one(Channel, pending.channel_id)
        claim(
            session,
            delivery_id=pending.id,  # type: ignore[arg-type]
            channel=channel,
            now=T0,
            lease=lease_for(fast),
            dashboard_url=fast.dashboard_url,
        )
    pass_at(engine, fast, T0 + timedelta(seconds=1))
    assert receiver.requests == []
    pass_at(engine, fast, T0 + lease_for(fast) + timedelta(seconds=1))
    assert len(receiver.accepted()) == 1
    log = attempts(engine, pending.id)  # type: ignore[arg-type]
    assert [a.outcome for a in log] == ["interrupted", "delivered"]


def test_a_disabled_channel_receives_nothing(
    engine: Engine, fast: Settings, receiver: Receiver
) -> None:
    add_webhook(engine, receiver.url, enabled=False)
    add_event(engine)
    pass_at(engine, fast, T0)
    assert receiver.requests == [] and deliveries(engine) == []


def test_a_channel_created_later_does_not_receive_earlier_events(
    engine: Engine, fast: Settings, receiver: Receiver
) -> None:
    add_event(engine)
    pass_at(engine, fast, T0)
    add_webhook(engine, receiver.url)
    later = add_event(engine, dedup_key="other")
    pass_at(engine, fast, T0 + timedelta(seconds=1))
    assert [r.headers["webhook-id"] for r in receiver.requests] == [later]


def test_grouping_waits_collapses_and_suppresses_unchanged_alerts(
    engine: Engine, fast: Settings, receiver: Receiver
) -> None:
    grouping = {"group_wait_seconds": 30, "group_interval_seconds": 300}
    add_webhook(engine, receiver.url, grouping=grouping)
    add_event(engine)
    pass_at(engine, fast, T0)
    ongoing = add_event(engine, EventType.DRIFT_ONGOING)
    pass_at(engine, fast, T0 + timedelta(seconds=10))
    assert receiver.requests == []  # still inside group_wait
    pass_at(engine, fast, T0 + timedelta(seconds=30))
    assert [r.headers["webhook-id"] for r in receiver.requests] == [ongoing]
    add_event(engine, EventType.DRIFT_ONGOING)
    pass_at(engine, fast, T0 + timedelta(minutes=10))
    assert len(receiver.requests) == 1
    notes = [(d.status, d.note.split(" ")[0]) for d in deliveries(engine)]
    assert notes == [
        ("suppressed", "superseded"),
        ("delivered", "delivered"),
        ("suppressed", "still"),
    ]


def test_secrets_never_reach_the_log(
    engine: Engine, fast: Settings, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    path = "/hooks/T0/SECRETPATH"
    receiver.script = lambda _: Answer(403, body=f"bad token for {path}".encode())
    add_webhook(engine, receiver.url + path)
    add_event(engine)
    pass_at(engine, fast, T0)
    assert "is dead" in caplog.text
    assert path not in caplog.text and SECRET not in caplog.text
    assert path not in deliveries(engine)[0].note


def test_a_resolution_passes_the_severity_filter_of_the_channel_that_paged(
    engine: Engine, fast: Settings, receiver: Receiver
) -> None:
    add_webhook(engine, receiver.url, filters={"min_severity": "warning"})
    onset = add_event(engine, severity=Severity.WARNING)
    resolved = add_event(engine, EventType.DRIFT_RESOLVED, severity=Severity.INFO)
    add_event(engine, EventType.MODEL_REGISTERED, severity=Severity.INFO, dedup_key=None)
    pass_at(engine, fast, T0)
    assert [r.headers["webhook-id"] for r in receiver.accepted()] == [onset, resolved]


def test_a_resolution_of_an_alert_the_channel_never_heard_is_not_sent(
    engine: Engine, fast: Settings, receiver: Receiver
) -> None:
    add_webhook(engine, receiver.url, filters={"min_severity": "critical"})
    add_event(engine, severity=Severity.WARNING)
    add_event(engine, EventType.DRIFT_RESOLVED, severity=Severity.INFO)
    pass_at(engine, fast, T0)
    assert receiver.requests == []
    assert [(d.status, d.note) for d in deliveries(engine)] == [
        ("suppressed", "resolved before anything was notified")
    ]
