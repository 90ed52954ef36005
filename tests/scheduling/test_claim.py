"""A queued run is claimed by one task only, however many name it; a running run is taken over
only once its heartbeat has gone stale (its worker died)."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from kombu.connection import Connection
from sqlalchemy import Engine, update
from sqlmodel import col

from monitor.entities.run import MonitorRun
from monitor.scheduling import jobs
from monitor.settings import Settings
from monitor.store.types import utc_now
from monitor.tasks.engine import CeleryDispatcher
from monitor.tasks.work import TAKEOVER_AFTER, RunClaim, claim_run
from tests.e2e.workers import task_engine
from tests.factories import drift_model_payload

__all__ = ["task_engine"]  # fixture

MODEL = "/api/v1/models/scored"


@pytest.fixture
def queued_run(client: TestClient, admin: dict[str, str]) -> int:
    client.post("/api/v1/models", json=drift_model_payload(), headers=admin)
    monitor = {"window": {"duration": "1h"}, "min_rows": 500}
    assert client.post(f"{MODEL}/monitors", json=monitor, headers=admin).status_code == 201
    queued = client.post(
        f"{MODEL}/monitors/drift/runs", json={"window_end": "2026-11-23T12:00:00Z"}, headers=admin
    ).json()
    run_id: int = queued["run_ids"][0]
    return run_id


def test_a_queued_run_is_claimed_once(
    client: TestClient, admin: dict[str, str], engine: Engine, queued_run: int
) -> None:
    assert claim_run(engine, queued_run) is RunClaim.CLAIMED
    assert claim_run(engine, queued_run) is RunClaim.BUSY
    run = client.get(f"{MODEL}/runs/{queued_run}", headers=admin).json()
    assert run["status"] == "running"


def _beat(engine: Engine, run_id: int, age: timedelta) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(MonitorRun)
            .where(col(MonitorRun.id) == run_id)
            .values(heartbeat_at=utc_now() - age)
        )


def test_a_running_run_is_taken_over_only_once_its_heartbeat_is_stale(
    engine: Engine, queued_run: int
) -> None:
    assert claim_run(engine, queued_run) is RunClaim.CLAIMED
    _beat(engine, queued_run, TAKEOVER_AFTER / 2)
    assert claim_run(engine, queued_run, takeover_after=TAKEOVER_AFTER) is RunClaim.BUSY
    _beat(engine, queued_run, TAKEOVER_AFTER * 2)
    assert claim_run(engine, queued_run, takeover_after=TAKEOVER_AFTER) is RunClaim.CLAIMED
    assert claim_run(engine, queued_run, takeover_after=TAKEOVER_AFTER) is RunClaim.BUSY


def test_a_queued_run_is_sent_to_the_broker_once(
    database_url: str, queued_run: int, task_engine: dict[str, str]
) -> None:
    settings = Settings(
        database_url=database_url,
        task_broker_url=task_engine["MONITOR_TASK_BROKER_URL"],
        task_queue=task_engine["MONITOR_TASK_QUEUE"],
    )
    jobs.bind(database_url, dispatcher=CeleryDispatcher(settings))
    assert jobs.drain_queue() == 1
    assert jobs.drain_queue() == 0
    with Connection(settings.task_broker_url) as connection:  # type: ignore[no-untyped-call]
        declared = connection.default_channel.queue_declare(settings.task_queue, passive=True)
    assert declared.message_count == 1
