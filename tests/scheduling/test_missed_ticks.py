"""Downtime does not replay a storm of runs: the next tick runs once and records what it missed."""

import threading
import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from monitor.entities.monitor import Monitor
from monitor.entities.run import MonitorRun, RunStatus, RunTrigger
from monitor.scheduling import jobs
from monitor.scheduling.scheduler import MonitorScheduler
from monitor.settings import Settings
from monitor.store.types import utc_now
from tests.factories import drift_model_payload


def _monitor(client: TestClient, headers: dict[str, str], every: str) -> int:
    client.post("/api/v1/models", json=drift_model_payload(), headers=headers)
    body = {"schedule": {"every": every}, "window": {"duration": "1h"}}
    return client.post("/api/v1/models/scored/monitors", json=body, headers=headers).json()["id"]


def _scheduled_runs(engine: Engine) -> list[MonitorRun]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(MonitorRun)
                .where(MonitorRun.trigger == RunTrigger.SCHEDULE)
                .order_by(col(MonitorRun.id))
            )
        )


def test_tick_after_downtime_records_the_missed_ticks(
    client: TestClient, admin: dict[str, str], engine: Engine, database_url: str
) -> None:
    monitor_id = _monitor(client, admin, every="1h")
    # Ten hourly ticks after the last run (ticks fall on the hour): nine were missed.
    last_end = utc_now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=10)
    with Session(engine) as session:
        monitor = session.get_one(Monitor, monitor_id)
        session.add(
            MonitorRun(
                monitor_id=monitor_id,
                model_id=monitor.model_id,
                status=RunStatus.SUCCEEDED,
                trigger=RunTrigger.SCHEDULE,
                window_start=last_end - timedelta(hours=1),
                window_end=last_end,
            )
        )
        session.commit()
    jobs.bind(database_url)
    jobs.run_monitor_tick(monitor_id)
    latest = _scheduled_runs(engine)[-1]
    assert latest.missed_ticks == 9


def test_restarted_scheduler_runs_an_overdue_monitor_once(
    client: TestClient, admin: dict[str, str], engine: Engine, settings: Settings
) -> None:
    _monitor(client, admin, every="2s")
    fast = settings.model_copy(
        update={"scheduler_poll_seconds": 0.2, "scheduler_sync_seconds": 0.2}
    )

    def run_scheduler_for(seconds: float) -> None:
        stop = threading.Event()
        thread = threading.Thread(target=MonitorScheduler(fast).run, args=(stop,), daemon=True)
        thread.start()
        time.sleep(seconds)
        stop.set()
        thread.join(timeout=15)

    run_scheduler_for(2.6)  # schedules the job (next run in the job store), runs one tick
    time.sleep(7)  # downtime: three ticks are missed
    before = len(_scheduled_runs(engine))
    run_scheduler_for(1.2)  # overdue: one coalesced run, not one per missed tick
    after = _scheduled_runs(engine)[before:]
    assert before >= 1
    # At most the coalesced run and the next regular tick fit in 1.2 s of a 2 s schedule.
    assert 1 <= len(after) <= 2
    assert after[0].missed_ticks >= 2
