"""Retention deletes raw records, labels, events (with their deliveries) and retraining exports
past their settings, in bounded batches; run history stays."""

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update
from sqlmodel import Session, SQLModel

from monitor.deployers.process import free_port
from monitor.entities.delivery_attempt import DeliveryAttempt
from monitor.entities.event import Event
from monitor.entities.inference import InferenceRecord
from monitor.entities.label import GroundTruthLabel
from monitor.entities.retraining import RetrainingPipeline, RetrainingRun
from monitor.entities.segment import InferenceSegment
from monitor.retraining.executor import run_directory
from monitor.services.retention import Removed, delete_expired
from monitor.settings import Settings
from tests.factories import model_payload, record
from tests.notifications.helpers import (
    add_event,
    add_model,
    add_webhook,
    attempts,
    deliveries,
    pass_at,
)

NOW = datetime(2026, 12, 1, tzinfo=UTC)
OLD, RECENT = "2026-10-01T12:00:00Z", "2026-11-30T12:00:00Z"


def _count(engine: Engine, table: type[SQLModel]) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture
def seeded(client: TestClient, admin: dict[str, str], ingest: dict[str, str]) -> None:
    """Five records and labels from two months ago, three from yesterday."""
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    records = [record(f"old-{i}", timestamp=OLD) for i in range(5)]
    records += [record(f"new-{i}", timestamp=RECENT) for i in range(3)]
    client.post("/api/v1/models/churn/inferences", json={"records": records}, headers=ingest)
    labels = [
        {"request_id": r["request_id"], "label": 1, "timestamp": r["timestamp"]} for r in records
    ]
    client.post("/api/v1/models/churn/labels", json={"labels": labels}, headers=ingest)


def test_records_and_labels_past_retention_are_deleted_in_batches(
    seeded: None, engine: Engine, settings: Settings
) -> None:
    kept_for = settings.model_copy(
        update={
            "retention_records_days": 30,
            "retention_labels_days": 30,
            "retention_batch_rows": 2,
        }
    )
    removed = delete_expired(engine=engine, settings=kept_for, now=NOW)
    assert removed == Removed(records=5, labels=5)  # the one segment also holds recent records
    assert (_count(engine, InferenceRecord), _count(engine, GroundTruthLabel)) == (3, 3)


def test_segments_go_once_all_their_records_are_past_retention(
    client: TestClient, ingest: dict[str, str], seeded: None, engine: Engine, settings: Settings
) -> None:
    # The seed wrote one batch mixing old and recent records; a second batch is all old.
    old = [record(f"older-{i}", timestamp=OLD) for i in range(4)]
    client.post("/api/v1/models/churn/inferences", json={"records": old}, headers=ingest)
    assert _count(engine, InferenceSegment) == 2
    kept_for = settings.model_copy(update={"retention_records_days": 30})
    removed = delete_expired(engine=engine, settings=kept_for, now=NOW)
    assert (removed.records, removed.segments) == (9, 1)
    assert _count(engine, InferenceSegment) == 1  # the mixed batch holds records still kept


def test_without_retention_settings_nothing_is_deleted(
    seeded: None, engine: Engine, settings: Settings
) -> None:
    assert delete_expired(engine=engine, settings=settings, now=NOW) == Removed(0, 0)
    assert _count(engine, InferenceRecord) == 8


def _age_events(engine: Engine, count: int, time: datetime) -> None:
    """The first `count` events, by id, as if recorded at `time`."""
    with Session(engine) as session:
        oldest = session.exec(select(Event.id).order_by(Event.id).limit(count)).scalars().all()
        session.execute(update(Event).where(Event.id.in_(oldest)).values(time=time))  # type: ignore[union-attr]
        session.commit()


def test_events_past_retention_go_with_their_deliveries_and_attempts(
    engine: Engine, settings: Settings
) -> None:
    add_model(engine, "churn")
    add_webhook(engine, f"http://127.0.0.1:{free_port()}/closed")  # every attempt fails
    uids = [add_event(engine, model="churn", dedup_key=f"churn/{i}") for i in range(5)]
    pass_at(engine, settings, NOW)
    assert len(deliveries(engine)) == 5
    assert all(attempts(engine, d.id) for d in deliveries(engine))  # type: ignore[arg-type]
    _age_events(engine, 3, datetime(2026, 10, 1, tzinfo=UTC))
    kept_for = settings.model_copy(update={"retention_events_days": 30, "retention_batch_rows": 2})
    removed = delete_expired(engine=engine, settings=kept_for, now=NOW)
    assert removed == Removed(records=0, labels=0, events=3)
    with Session(engine) as session:
        assert sorted(session.exec(select(Event.uid)).scalars()) == sorted(uids[3:])
    assert len(deliveries(engine)) == 2
    assert _count(engine, DeliveryAttempt) == sum(
        len(attempts(engine, d.id))
        for d in deliveries(engine)  # type: ignore[arg-type]
    )


def _retraining_run(
    session: Session, pipeline_id: int, status: str, finished: datetime | None
) -> int:
    run = RetrainingRun(
        model_id=1,
        pipeline_id=pipeline_id,
        kind="python",
        status=status,
        trigger="manual",
        finished_at=finished,
        export_path="set",
        rows_production=100,
        gate_passed=True,
    )
    session.add(run)
    session.flush()
    assert run.id is not None
    return run.id


def test_exports_of_runs_finished_past_retention_are_deleted_and_their_runs_kept(
    engine: Engine, settings: Settings
) -> None:
    add_model(engine, "churn")
    long_ago, yesterday = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC)
    with Session(engine) as session:
        pipeline = RetrainingPipeline(model_id=1, kind="python", config={"kind": "python"})
        session.add(pipeline)
        session.flush()
        assert pipeline.id is not None
        old = [_retraining_run(session, pipeline.id, "succeeded", long_ago) for _ in range(3)]
        recent = _retraining_run(session, pipeline.id, "failed", yesterday)
        session.commit()
    for run_id in [*old, recent]:
        folder = run_directory(settings, run_id)
        folder.mkdir(parents=True)
        (folder / "training.parquet").write_bytes(b"PAR1")
    kept_for = settings.model_copy(update={"retention_exports_days": 30, "retention_batch_rows": 2})
    removed = delete_expired(engine=engine, settings=kept_for, now=NOW)
    assert removed == Removed(records=0, labels=0, exports=3)
    assert [run_directory(settings, r).exists() for r in [*old, recent]] == [False] * 3 + [True]
    with Session(engine) as session:
        runs = session.exec(select(RetrainingRun).order_by(RetrainingRun.id)).scalars().all()
        assert [(r.export_path, r.rows_production, r.gate_passed) for r in runs] == [
            (None, 100, True)
        ] * 3 + [("set", 100, True)]
