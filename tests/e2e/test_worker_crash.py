"""A worker SIGKILLed in the middle of a monitor run: the broker hands the task to another
worker, which takes the run over once its heartbeat has gone stale and completes it, once."""

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from monitor.entities.event import Event, EventType
from monitor.entities.run import FeatureResult, MonitorRun, RunStatus
from monitor.scheduling import jobs
from monitor.settings import Settings
from monitor.tasks.engine import CeleryDispatcher
from tests.e2e.workers import Worker, task_engine, workers
from tests.factories import drift_frame, drift_model_payload, records_from, upload_reference

pytestmark = pytest.mark.postgres

__all__ = ["task_engine", "workers"]  # fixtures

MODEL = "/api/v1/models/scored"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SLOW_RUN_SECONDS = 600  # the first worker never finishes on its own
COMPLETION_TIMEOUT_S = 90.0


@pytest.fixture
def database_url(postgres_url: str) -> Iterator[str]:
    """Workers on other processes share one store: PostgreSQL only."""
    yield postgres_url


@pytest.fixture
def queued_run(client: TestClient, admin: dict[str, str]) -> int:
    """A run now over a window where x2 drifted: results and a drift event to count."""
    client.post("/api/v1/models", json=drift_model_payload(), headers=admin)
    upload_reference(client, admin, drift_frame(5_000, seed=1))
    records = records_from(drift_frame(2_000, seed=5, shifted=("x2",)), "r")
    for record in records:
        record["timestamp"] = (NOW - timedelta(minutes=30)).isoformat()
    client.post(f"{MODEL}/inferences", json={"records": records}, headers=admin)
    monitor = {"window": {"duration": "1h"}, "min_rows": 500, "hysteresis": {"onset_after": 1}}
    assert client.post(f"{MODEL}/monitors", json=monitor, headers=admin).status_code == 201
    queued = client.post(
        f"{MODEL}/monitors/drift/runs", json={"window_end": NOW.isoformat()}, headers=admin
    ).json()
    run_id: int = queued["run_ids"][0]
    return run_id


def _run(engine: Engine, run_id: int) -> MonitorRun:
    with Session(engine) as session:
        return session.get_one(MonitorRun, run_id)


def _wait_for(engine: Engine, run_id: int, statuses: set[RunStatus]) -> MonitorRun:
    deadline = time.monotonic() + COMPLETION_TIMEOUT_S
    while time.monotonic() < deadline:
        run = _run(engine, run_id)
        if run.status in statuses:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} still {run.status} after {COMPLETION_TIMEOUT_S} s")


def test_a_run_whose_worker_is_killed_completes_once_on_another_worker(
    engine: Engine,
    database_url: str,
    queued_run: int,
    task_engine: dict[str, str],
    workers: list[Worker],
    tmp_path: Path,
) -> None:
    settings = {"MONITOR_DATABASE_URL": database_url, **task_engine}
    doomed = Worker(tmp_path, "doomed", settings, slow_s=SLOW_RUN_SECONDS)
    workers.append(doomed)
    doomed.wait_ready()
    scheduler_settings = Settings(
        database_url=database_url,
        task_broker_url=task_engine["MONITOR_TASK_BROKER_URL"],
        task_queue=task_engine["MONITOR_TASK_QUEUE"],
    )
    jobs.bind(database_url, dispatcher=CeleryDispatcher(scheduler_settings))
    assert jobs.drain_queue() == 1
    _wait_for(engine, queued_run, {RunStatus.RUNNING})
    doomed.kill()
    # Started only now, so the task cannot have reached it first; it starts while the dead
    # worker's heartbeat goes stale.
    survivor = Worker(tmp_path, "survivor", settings)
    workers.append(survivor)

    run = _wait_for(engine, queued_run, {RunStatus.SUCCEEDED, RunStatus.FAILED})

    assert (run.status, run.error) == (RunStatus.SUCCEEDED, None)
    assert f"run task for run {queued_run}" in survivor.log()
    with Session(engine) as session:
        results = session.exec(select(FeatureResult.run_id, FeatureResult.feature)).all()
        events = Counter(session.exec(select(Event.type)).all())
        runs = session.exec(select(func.count()).select_from(MonitorRun)).one()
    assert runs == 1
    assert {run_id for run_id, _ in results} == {queued_run}
    assert {feature for _, feature in results} >= {"x1", "x2"}
    assert events[EventType.DRIFT_DETECTED] == 1, events
    assert all(count == 1 for count in events.values()), events
    assert EventType.RUN_FAILED not in events
