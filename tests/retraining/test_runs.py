"""Retraining runs on both stores: one at a time per model, the cooldown, events read once,
failures, timeouts and crashes recorded with a clear status."""

import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from monitor.entities.event import Event, EventType, Severity
from monitor.entities.retraining import (
    RetrainingCursor,
    RetrainingPipeline,
    RetrainingRun,
    RetrainStatus,
    RetrainTrigger,
)
from monitor.retraining.executor import execute_run
from monitor.retraining.jobs import retraining_tick
from monitor.retraining.trigger import _settled, consume_events, request_scheduled
from monitor.services import models
from monitor.services.errors import Conflict
from monitor.services.events import record_event
from monitor.services.retraining import CoolingDown, request_run
from monitor.settings import Settings
from monitor.store.types import utc_now
from tests.factories import model_payload
from tests.retraining.scenario import command_pipeline, configure

MODEL = "churn"


@pytest.fixture
def churn(client: TestClient, admin: dict[str, str]) -> None:
    client.post("/api/v1/models", json=model_payload(MODEL), headers=admin)


def _request(engine: Engine, trigger: RetrainTrigger = RetrainTrigger.MANUAL, **kw: Any) -> int:
    with Session(engine, expire_on_commit=False) as session:
        model = models.get_model(session=session, name=MODEL)
        run = request_run(session=session, model=model, trigger=trigger, **kw)
    assert run.id is not None
    return run.id


def _runs(engine: Engine) -> list[RetrainingRun]:
    with Session(engine) as session:
        return list(session.exec(select(RetrainingRun).order_by(col(RetrainingRun.id))))


def _events(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.exec(select(Event.type).order_by(col(Event.id))))


def _set_status(engine: Engine, run_id: int, status: RetrainStatus) -> None:
    with Session(engine) as session:
        run = session.get_one(RetrainingRun, run_id)
        run.status = status
        session.add(run)
        session.commit()


def test_two_concurrent_triggers_queue_one_run(
    client: TestClient, admin: dict[str, str], engine: Engine, churn: None
) -> None:
    configure(client, admin, command_pipeline("true"), MODEL)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def trigger() -> None:
        barrier.wait()
        try:
            _request(engine)
            outcomes.append("queued")
        except Conflict as refused:
            outcomes.append(str(refused))

    threads = [threading.Thread(target=trigger) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes)[-1] == "queued"
    assert "at most one runs at a time" in sorted(outcomes)[0]
    assert len(_runs(engine)) == 1


def test_the_database_refuses_a_second_active_run_of_a_model(
    client: TestClient, admin: dict[str, str], engine: Engine, churn: None
) -> None:
    configure(client, admin, command_pipeline("true"), MODEL)
    first = _request(engine)
    _set_status(engine, first, RetrainStatus.RUNNING)
    with Session(engine) as session:
        pipeline = session.exec(select(RetrainingPipeline)).one()
        session.add(
            RetrainingRun(
                model_id=pipeline.model_id,
                pipeline_id=pipeline.id,  # type: ignore[arg-type]
                kind="command",
                status=RetrainStatus.QUEUED,
                trigger=RetrainTrigger.MANUAL,
            )
        )
        with pytest.raises(IntegrityError):
            session.commit()


def test_a_finished_run_frees_the_model_for_the_next(
    client: TestClient, admin: dict[str, str], engine: Engine, churn: None
) -> None:
    configure(client, admin, command_pipeline("true"), MODEL)
    _set_status(engine, _request(engine), RetrainStatus.FAILED)
    assert _request(engine) > 0


def test_an_event_inside_the_cooldown_starts_no_run(
    client: TestClient, admin: dict[str, str], engine: Engine, churn: None
) -> None:
    configure(client, admin, command_pipeline("true", cooldown="1h"), MODEL)
    _set_status(engine, _request(engine), RetrainStatus.SUCCEEDED)
    with pytest.raises(CoolingDown, match=r"cooling down .* until .*cooldown 1h"):
        _request(engine, RetrainTrigger.EVENT)
    assert _request(engine, RetrainTrigger.MANUAL) > 0  # by hand, the cooldown is overridden


def _drift_event(engine: Engine, severity: Severity, model: str = MODEL) -> None:
    with Session(engine) as session:
        found = models.get_model(session=session, name=model)
        record_event(
            session,
            type=EventType.DRIFT_DETECTED,
            severity=severity,
            model=found,
            data={"monitor": "drift", "drifting": ["age"], "window": None, "results": []},
        )
        session.commit()


def _consume(engine: Engine) -> int:
    return consume_events(engine, now=utc_now(), grace=timedelta(seconds=60))


def test_a_matching_event_requests_one_run_and_is_read_once(
    client: TestClient, admin: dict[str, str], engine: Engine, churn: None
) -> None:
    configure(client, admin, command_pipeline("true"), MODEL)
    _consume(engine)  # the cursor starts at the newest event
    _drift_event(engine, Severity.CRITICAL)
    assert _consume(engine) == 1
    assert _consume(engine) == 0
    [run] = _runs(engine)
    assert run.trigger == RetrainTrigger.EVENT
    assert run.event_uid is not None and run.event_uid.startswith("evt_")


def test_an_event_read_again_after_a_lost_cursor_starts_no_second_run(
    client: TestClient, admin: dict[str, str], engine: Engine, churn: None
) -> None:
    configure(client, admin, command_pipeline("true"), MODEL)
    _consume(engine)
    _drift_event(engine, Severity.WARNING)
    _consume(engine)
    _set_status(engine, _runs(engine)[0].id or 0, RetrainStatus.SUCCEEDED)
    with Session(engine) as session:  # as if the cursor update had been lost in a crash
        cursor = session.get_one(RetrainingCursor, "events")
        cursor.last_event_id = 0
        session.add(cursor)
        session.commit()
    assert _consume(engine) == 0
    assert len(_runs(engine)) == 1


def test_milder_and_other_models_events_request_nothing(
    client: TestClient, admin: dict[str, str], engine: Engine, churn: None
) -> None:
    client.post("/api/v1/models", json=model_payload("fraud"), headers=admin)
    configure(client, admin, command_pipeline("true"), MODEL)
    _consume(engine)
    _drift_event(engine, Severity.INFO)
    _drift_event(engine, Severity.CRITICAL, model="fraud")
    assert _consume(engine) == 0
    assert _runs(engine) == []


def _event(event_id: int, age_seconds: float) -> Event:
    return Event(
        id=event_id,
        uid=f"evt_{event_id}",
        type="drift.detected",
        time=utc_now() - timedelta(seconds=age_seconds),
        severity="warning",
        data={},
    )


def test_a_fresh_gap_in_event_ids_is_waited_for() -> None:
    events = [_event(1, 5), _event(3, 5)]  # 2 may still commit (PostgreSQL)
    assert [e.id for e in _settled(events, 0, utc_now(), timedelta(seconds=60))] == [1]


def test_an_old_gap_in_event_ids_is_passed_over() -> None:
    events = [_event(1, 120), _event(3, 120)]  # 2 was rolled back long ago
    assert [e.id for e in _settled(events, 0, utc_now(), timedelta(seconds=60))] == [1, 3]


@pytest.fixture
def retrain_with(
    client: TestClient,
    admin: dict[str, str],
    engine: Engine,
    churn: None,
    retrain_settings: Settings,
) -> Callable[..., RetrainingRun]:
    """Configure a command pipeline, then run it here to its end."""

    def retrain(command: str, **spec: Any) -> RetrainingRun:
        configure(client, admin, command_pipeline(command, **spec), MODEL)
        return execute_run(engine, retrain_settings, _request(engine))

    return retrain


def test_a_failing_pipeline_is_recorded_failed_with_its_logs(
    retrain_with: Callable[..., RetrainingRun], engine: Engine
) -> None:
    run = retrain_with("echo 'no GPU today' >&2; exit 3")
    assert run.status == RetrainStatus.FAILED
    assert run.error == "the pipeline exited with status 3; see the logs"
    assert "no GPU today" in run.logs
    assert run.finished_at is not None
    assert [e for e in _events(engine) if e.startswith("retrain.")] == [
        "retrain.requested",
        "retrain.started",
        "retrain.failed",
    ]


def test_a_pipeline_past_its_timeout_is_killed_and_recorded_timed_out(
    retrain_with: Callable[..., RetrainingRun],
) -> None:
    run = retrain_with("echo started; sleep 60", timeout="1s")
    assert run.status == RetrainStatus.TIMED_OUT
    assert "timed out after 1 s" in (run.error or "")
    assert "started" in run.logs
    assert run.finished_at is not None and run.started_at is not None
    assert run.finished_at - run.started_at < timedelta(seconds=20)


def test_a_pipeline_that_reports_nothing_fails_naming_the_fix(
    retrain_with: Callable[..., RetrainingRun],
) -> None:
    run = retrain_with("true")
    assert run.status == RetrainStatus.FAILED
    assert "wrote no result" in (run.error or "")
    assert "MONITOR_RETRAIN_RESULT" in (run.error or "")


CONTEXT_PROBE = """
import json, os
context = json.load(open(os.environ["MONITOR_RETRAIN_CONTEXT"]))
print("model", context["model"]["name"], "param", context["parameters"]["depth"])
print("leaked", "MONITOR_DATABASE_URL" in os.environ)
print("tracking", os.environ["MLFLOW_TRACKING_URI"] == context["mlflow"]["tracking_uri"])
"""


def test_a_pipeline_gets_the_context_and_not_the_servers_settings(
    retrain_with: Callable[..., RetrainingRun],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("MONITOR_DATABASE_URL", "postgresql://secret@db/monitor")
    probe = tmp_path / "probe.py"
    probe.write_text(CONTEXT_PROBE)
    run = retrain_with(f"{sys.executable} {probe}; exit 1", parameters={"depth": 3})
    assert "model churn param 3" in run.logs
    assert "leaked False" in run.logs
    assert "tracking True" in run.logs


def test_a_due_schedule_requests_a_run(
    client: TestClient, admin: dict[str, str], engine: Engine, churn: None
) -> None:
    configure(client, admin, command_pipeline("true", schedule={"every": "1h"}), MODEL)
    assert request_scheduled(engine, now=utc_now()) == 0
    assert request_scheduled(engine, now=utc_now() + timedelta(hours=1, seconds=1)) == 1
    [run] = _runs(engine)
    assert run.trigger == RetrainTrigger.SCHEDULE


def test_the_retraining_job_executes_queued_runs_in_the_background(
    client: TestClient,
    admin: dict[str, str],
    engine: Engine,
    churn: None,
    retrain_settings: Settings,
) -> None:
    configure(client, admin, command_pipeline("echo from the job; exit 5"), MODEL)
    run_id = _request(engine)
    retraining_tick(engine, retrain_settings)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        [run] = _runs(engine)
        if run.status not in (RetrainStatus.QUEUED, RetrainStatus.RUNNING):
            break
        time.sleep(0.1)
    assert (run.id, run.status) == (run_id, RetrainStatus.FAILED)
    assert "from the job" in run.logs
