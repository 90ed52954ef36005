"""Retention deletes raw records and labels past their settings, in bounded batches."""

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlmodel import Session, SQLModel

from monitor.entities.inference import InferenceRecord
from monitor.entities.label import GroundTruthLabel
from monitor.services.retention import Removed, delete_expired
from monitor.settings import Settings
from tests.factories import model_payload, record

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
    assert removed == Removed(records=5, labels=5)
    assert (_count(engine, InferenceRecord), _count(engine, GroundTruthLabel)) == (3, 3)


def test_without_retention_settings_nothing_is_deleted(
    seeded: None, engine: Engine, settings: Settings
) -> None:
    assert delete_expired(engine=engine, settings=settings, now=NOW) == Removed(0, 0)
    assert _count(engine, InferenceRecord) == 8
