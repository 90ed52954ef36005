"""An outage of the receiver, with the scheduler restarted in the middle of it: once the receiver
is back, every event reaches it, each once by `webhook-id`, in order per dedup key."""

import time
from collections import Counter
from collections.abc import Callable

from sqlalchemy import Engine
from standardwebhooks import Webhook

from monitor.entities.event import EventType
from monitor.scheduling.scheduler import start_in_background
from monitor.settings import Settings
from tests.notifications.helpers import SECRET, add_event, add_webhook, deliveries
from tests.notifications.receiver import Receiver, fails_first

KEYS = ("churn/drift", "fraud/drift", "churn/latency")
OUTAGE = 30  # requests answered 503


def _wait_for(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"condition not met within {timeout} s"
        time.sleep(0.02)


def _events(engine: Engine, rounds: range, sent: dict[str, list[str]]) -> None:
    for n in rounds:
        for key in KEYS:
            kind = EventType.DRIFT_DETECTED if n % 2 == 0 else EventType.DRIFT_RESOLVED
            sent[key].append(add_event(engine, kind, dedup_key=key))


def test_outage_and_restart_lose_nothing_and_duplicate_nothing(
    engine: Engine, fast: Settings, receiver: Receiver
) -> None:
    settings = fast.model_copy(
        update={
            "scheduler": True,
            "scheduler_poll_seconds": 0.05,
            "scheduler_sync_seconds": 0.5,
            "delivery_max_attempts": 1000,  # the outage outlasts no budget here
        }
    )
    receiver.script = fails_first(OUTAGE)
    add_webhook(engine, receiver.url)
    sent: dict[str, list[str]] = {key: [] for key in KEYS}
    _events(engine, range(4), sent)

    thread, stop = start_in_background(settings)
    _wait_for(lambda: len(receiver.requests) >= OUTAGE // 2)  # mid-outage
    stop.set()
    thread.join(timeout=10)
    _events(engine, range(4, 8), sent)  # written while no dispatcher runs
    thread, stop = start_in_background(settings)
    try:
        _wait_for(lambda: [d.status for d in deliveries(engine)] == ["delivered"] * 24)
    finally:
        stop.set()
        thread.join(timeout=10)

    accepted = receiver.accepted()
    assert len(receiver.requests) >= OUTAGE + 24  # the outage really refused them
    ids = [r.headers["webhook-id"] for r in accepted]
    assert Counter(ids) == Counter(uid for uids in sent.values() for uid in uids)  # each once
    arrived = [Webhook(SECRET).verify(r.body, r.headers) for r in accepted]
    for key in KEYS:
        assert [e["id"] for e in arrived if e["dedup_key"] == key] == sent[key]
