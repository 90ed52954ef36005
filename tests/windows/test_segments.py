"""Columnar segments: what a window read returns, and compaction that keeps it the same."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from monitor.entities.registered_model import RegisteredModel
from monitor.entities.segment import InferenceSegment
from monitor.windows.compaction import compact_model
from monitor.windows.reader import Window, load_window
from tests.factories import model_payload, record

START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def churn(client: TestClient, admin: dict[str, str]) -> str:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    return "/api/v1/models/churn/inferences"


def _send_one_by_one(client: TestClient, url: str, headers: dict[str, str], count: int) -> None:
    for i in range(count):
        stamp = (START + timedelta(minutes=i)).isoformat()
        client.post(url, json={"records": [record(f"r{i}", timestamp=stamp)]}, headers=headers)


def _window(engine: Engine, window: Window) -> list[str]:
    with Session(engine) as session:
        model = session.exec(select(RegisteredModel)).scalars().one()  # type: ignore[call-overload]
        table = load_window(session.connection(), model.id, model.data_schema, window)
    return table.column("request_id").to_pylist()


def _segments(engine: Engine) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(InferenceSegment)).scalar_one()


def test_window_holds_exactly_the_records_in_its_time_range(
    client: TestClient, churn: str, ingest: dict[str, str], engine: Engine
) -> None:
    _send_one_by_one(client, churn, ingest, 10)
    window = Window(start=START + timedelta(minutes=3), end=START + timedelta(minutes=7))
    assert _window(engine, window) == ["r3", "r4", "r5", "r6"]


def test_last_records_window_keeps_the_newest(
    client: TestClient, churn: str, ingest: dict[str, str], engine: Engine
) -> None:
    _send_one_by_one(client, churn, ingest, 10)
    window = Window(start=START, end=START + timedelta(hours=1), last=3)
    assert _window(engine, window) == ["r7", "r8", "r9"]


def test_retried_records_appear_once_in_a_window(
    client: TestClient, churn: str, ingest: dict[str, str], engine: Engine
) -> None:
    _send_one_by_one(client, churn, ingest, 5)
    _send_one_by_one(client, churn, ingest, 5)
    window = Window(start=START, end=START + timedelta(hours=1))
    assert _window(engine, window) == ["r0", "r1", "r2", "r3", "r4"]
    assert _segments(engine) == 5


def test_compaction_merges_small_segments_without_changing_windows(
    client: TestClient, churn: str, ingest: dict[str, str], engine: Engine
) -> None:
    _send_one_by_one(client, churn, ingest, 30)
    window = Window(start=START + timedelta(minutes=5), end=START + timedelta(minutes=25))
    before = _window(engine, window)
    with Session(engine) as session:
        model = session.exec(select(RegisteredModel)).scalars().one()  # type: ignore[call-overload]
    removed = compact_model(engine, model, settle=timedelta(0))
    assert (removed, _segments(engine)) == (29, 1)
    assert _window(engine, window) == before


def _send_failed(client: TestClient, url: str, headers: dict[str, str], minutes: list[int]) -> None:
    records = [
        record(f"failed{i}", prediction=None, status_code=500, timestamp=stamp)
        for i in minutes
        for stamp in [(START + timedelta(minutes=i, seconds=30)).isoformat()]
    ]
    assert client.post(url, json={"records": records}, headers=headers).status_code == 202


def test_failed_requests_stay_out_of_windows(
    client: TestClient, churn: str, ingest: dict[str, str], engine: Engine
) -> None:
    _send_one_by_one(client, churn, ingest, 3)
    _send_failed(client, churn, ingest, [0, 1, 2])
    assert _window(engine, Window(start=START, end=START + timedelta(hours=1))) == [
        "r0",
        "r1",
        "r2",
    ]


def test_last_records_window_counts_only_records_with_predictions(
    client: TestClient, churn: str, ingest: dict[str, str], engine: Engine
) -> None:
    _send_one_by_one(client, churn, ingest, 10)
    _send_failed(client, churn, ingest, [7, 8, 9])
    window = Window(start=START, end=START + timedelta(hours=1), last=3)
    assert _window(engine, window) == ["r7", "r8", "r9"]
