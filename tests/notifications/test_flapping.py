"""A monitor whose drift switches on and off on every run, for 20 real runs, pages PagerDuty no
more often than the channel's grouping allows, and ends resolved."""

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from monitor.scheduling import jobs
from monitor.settings import Settings
from tests.factories import drift_frame, drift_model_payload, records_from, upload_reference
from tests.notifications.formats import check_events_v2
from tests.notifications.helpers import pass_at
from tests.notifications.receiver import Receiver

MODEL = "/api/v1/models/scored"
WINDOWS_FROM = datetime(2026, 11, 1, tzinfo=UTC)
CLOCK_FROM = datetime(2026, 11, 23, 12, tzinfo=UTC)
RUN_EVERY = timedelta(minutes=1)  # on the dispatcher's clock
RUNS = 20
ROWS = 300
ROUTING_KEY = "R0123456789abcdef0123456789ABCDE"


def _set_up(client: TestClient, headers: dict[str, str], receiver: Receiver) -> None:
    client.post("/api/v1/models", json=drift_model_payload(), headers=headers)
    upload_reference(client, headers, drift_frame(5_000, seed=1))
    monitor = {
        "window": {"duration": "1h"},
        "min_rows": ROWS,
        "hysteresis": {"onset_after": 1, "resolve_after": 1},
    }
    assert client.post(f"{MODEL}/monitors", json=monitor, headers=headers).status_code == 201
    channel = {
        "name": "oncall",
        "kind": "pagerduty",  # default grouping: 30 s wait, 5 min interval, 4 h repeat
        # The shifted windows also push x1 out of the reference's range, a data-quality event
        # of its own; this channel pages on drift alone.
        "filters": {"event_types": ["drift.detected", "drift.resolved"]},
        "options": {"events_url": f"{receiver.url}/v2/enqueue"},
        "secrets": {"routing_key": ROUTING_KEY},
    }
    assert client.post("/api/v1/channels", json=channel, headers=headers).status_code == 201


def _run(client: TestClient, headers: dict[str, str], window: int, drifted: bool) -> None:
    start = WINDOWS_FROM + timedelta(hours=window)
    frame = drift_frame(ROWS, seed=100 + window, shifted=("x1",) if drifted else ())
    records = records_from(frame, f"w{window}")
    for record in records:
        record["timestamp"] = (start + timedelta(minutes=30)).isoformat()
    client.post(f"{MODEL}/inferences", json={"records": records}, headers=headers)
    end = (start + timedelta(hours=1)).isoformat()
    client.post(f"{MODEL}/monitors/drift/runs", json={"window_end": end}, headers=headers)
    assert jobs.drain_queue() == 1


def test_flapping_drift_pages_no_more_often_than_grouping_allows(
    client: TestClient,
    admin: dict[str, str],
    engine: Engine,
    settings: Settings,
    database_url: str,
    receiver: Receiver,
) -> None:
    jobs.bind(database_url)
    _set_up(client, admin, receiver)
    for run in range(RUNS):
        _run(client, admin, run, drifted=run % 2 == 0)
        pass_at(engine, settings, CLOCK_FROM + run * RUN_EVERY)
    settled = CLOCK_FROM + RUNS * RUN_EVERY + timedelta(minutes=10)
    pass_at(engine, settings, settled)

    events = client.get("/api/v1/events", params={"limit": 100}, headers=admin).json()["data"]
    flips = [e["type"] for e in reversed(events) if e["type"].startswith("drift.")]
    assert flips == ["drift.detected", "drift.resolved"] * (RUNS // 2)  # it really flapped
    pages = [request.json() for request in receiver.accepted()]
    for page in pages:
        check_events_v2(page)
    group_interval = timedelta(minutes=5)
    assert 2 <= len(pages) <= 1 + (settled - CLOCK_FROM) // group_interval
    actions = [page["event_action"] for page in pages]
    assert all(a != b for a, b in pairwise(actions))  # never the same news twice in a row
    assert (actions[0], actions[-1]) == ("trigger", "resolve")
    assert {page["dedup_key"] for page in pages} == {"scored/drift"}
