"""One scheduled or backfilled run per monitor and window end: a scheduler that took over and
fires the same tick, or a backfill repeated over a range, finds the window already enqueued
(no error, no second run); manual runs may repeat a window on purpose."""

import threading
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from monitor.entities.monitor import Monitor
from monitor.entities.run import MonitorRun, RunTrigger
from monitor.runs.runner import start_run
from monitor.scheduling import jobs
from tests.factories import drift_model_payload

MODEL = "/api/v1/models/scored"
WINDOW_END = datetime(2026, 11, 23, 12, tzinfo=UTC)


def _monitor(client: TestClient, admin: dict[str, str]) -> int:
    client.post("/api/v1/models", json=drift_model_payload(), headers=admin)
    body = {"schedule": {"every": "1h"}, "window": {"duration": "1h"}, "min_rows": 10**6}
    reply = client.post(f"{MODEL}/monitors", json=body, headers=admin)
    assert reply.status_code == 201, reply.text
    return int(reply.json()["id"])


def _runs(engine: Engine, trigger: RunTrigger) -> list[MonitorRun]:
    with Session(engine) as session:
        query = select(MonitorRun).where(MonitorRun.trigger == trigger)
        return list(session.exec(query.order_by(col(MonitorRun.id))))


def test_a_tick_fired_by_two_schedulers_at_once_is_run_once(
    client: TestClient, admin: dict[str, str], engine: Engine, database_url: str
) -> None:
    monitor_id = _monitor(client, admin)
    jobs.bind(database_url)
    both_ready = threading.Barrier(2)
    failures: list[BaseException] = []

    def fire() -> None:
        both_ready.wait()
        try:
            jobs.run_monitor_tick(monitor_id)
        except BaseException as error:  # reported below: a thread's error is otherwise lost
            failures.append(error)

    schedulers = [threading.Thread(target=fire) for _ in range(2)]
    for thread in schedulers:
        thread.start()
    for thread in schedulers:
        thread.join(timeout=60)
    assert failures == []
    [run] = _runs(engine, RunTrigger.SCHEDULE)
    assert (run.window_end.minute, run.window_end.second, run.window_end.microsecond) == (0, 0, 0)


def test_starting_a_window_the_schedule_already_holds_is_refused_quietly(
    client: TestClient, admin: dict[str, str], engine: Engine
) -> None:
    monitor_id = _monitor(client, admin)
    with Session(engine, expire_on_commit=False) as session:
        monitor = session.get_one(Monitor, monitor_id)
        first = start_run(
            session, monitor=monitor, window_end=WINDOW_END, trigger=RunTrigger.SCHEDULE
        )
        assert first is not None
        first_id = first.id
        again = start_run(
            session, monitor=monitor, window_end=WINDOW_END, trigger=RunTrigger.BACKFILL
        )
    assert again is None
    assert [run.id for run in _runs(engine, RunTrigger.SCHEDULE)] == [first_id]
    assert _runs(engine, RunTrigger.BACKFILL) == []


def test_backfilling_a_range_twice_queues_each_window_once(
    client: TestClient, admin: dict[str, str], engine: Engine
) -> None:
    _monitor(client, admin)
    body = {"start": "2026-11-23T00:00:00Z", "end": "2026-11-23T06:00:00Z"}
    first = client.post(f"{MODEL}/monitors/drift/backfill", json=body, headers=admin).json()
    wider = {"start": "2026-11-22T22:00:00Z", "end": "2026-11-23T06:00:00Z"}
    second = client.post(f"{MODEL}/monitors/drift/backfill", json=wider, headers=admin).json()
    assert (first["count"], first["already_queued"]) == (6, 0)
    assert (second["count"], second["already_queued"]) == (8, 6)
    assert second["run_ids"][2:] == first["run_ids"]
    assert len(_runs(engine, RunTrigger.BACKFILL)) == 8


def test_manual_runs_may_repeat_a_window(
    client: TestClient, admin: dict[str, str], engine: Engine
) -> None:
    _monitor(client, admin)
    body = {"window_end": WINDOW_END.isoformat()}
    for _ in range(2):
        reply = client.post(f"{MODEL}/monitors/drift/runs", json=body, headers=admin)
        assert reply.status_code == 202
    assert len(_runs(engine, RunTrigger.MANUAL)) == 2
