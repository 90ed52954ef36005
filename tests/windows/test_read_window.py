"""A window read in batches holds the records a whole load holds, of the columns asked for, and a
bounded sample of it keeps at most its capacity (all rows while they fit)."""

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlmodel import Session

from monitor.entities.registered_model import RegisteredModel
from monitor.windows.reader import VersionScope, Window, load_window, read_window
from monitor.windows.sample import RowSample
from tests.factories import model_payload, record

START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def served(client: TestClient, admin: dict[str, str], ingest: dict[str, str]) -> None:
    """Three ingest batches (three segments) of ten records, one version each, a second apart."""
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    for batch, version in enumerate(("1", "2", "1")):
        records = []
        for i in range(10):
            moment = START + timedelta(seconds=10 * batch + i)
            item = record(f"r{batch}-{i}", timestamp=moment.isoformat())
            item["model_version"] = version
            records.append(item)
        reply = client.post(
            "/api/v1/models/churn/inferences", json={"records": records}, headers=ingest
        )
        assert reply.status_code == 202, reply.text


@pytest.mark.usefixtures("served")
def test_a_window_read_in_batches_holds_the_records_of_a_whole_load(engine: Engine) -> None:
    window = Window(start=START + timedelta(seconds=5), end=START + timedelta(seconds=25))
    scope = VersionScope("1")
    with Session(engine) as session:
        model = session.exec(select(RegisteredModel)).scalars().one()  # type: ignore[call-overload]
        connection = session.connection()
        whole = load_window(connection, model.id, model.data_schema, window, scope)
        batches = list(
            read_window(
                connection, model.id, model.data_schema, window, scope, ["request_id"], batch_rows=4
            )
        )
    assert len(batches) == 2  # a batch closes at the first segment past 4 rows
    assert all(batch.column_names == ["request_id", "timestamp"] for batch in batches)
    read = [rid for batch in batches for rid in batch.column("request_id").to_pylist()]
    assert sorted(read) == sorted(whole.column("request_id").to_pylist())
    assert sorted(read) == [f"r0-{i}" for i in range(5, 10)] + [f"r2-{i}" for i in range(5)]


def test_a_sample_keeps_every_row_while_they_fit_then_its_capacity() -> None:
    small, full = RowSample(capacity=25), RowSample(capacity=25)
    small.add(pa.table({"x": list(range(10))}))
    small.add(pa.table({"x": list(range(10, 20))}))
    assert small.table(pa.schema([("x", pa.int64())])).column("x").to_pylist() == list(range(20))
    for first in range(0, 1_000, 100):
        full.add(pa.table({"x": list(range(first, first + 100))}))
    kept = full.table(pa.schema([("x", pa.int64())])).column("x").to_pylist()
    assert len(kept) == 25 and len(set(kept)) == 25 and kept == sorted(kept)
    assert full.n_seen == 1_000
    assert max(kept) >= 500  # drawn from the whole stream, not its first rows


def test_samples_of_parts_merge_into_a_sample_of_the_whole() -> None:
    first, second = RowSample(capacity=30, seed=1), RowSample(capacity=30, seed=2)
    first.add(pa.table({"x": list(range(20))}))
    second.add(pa.table({"x": list(range(20, 40))}))
    first.merge(second)
    kept = first.table(pa.schema([("x", pa.int64())])).column("x").to_pylist()
    assert len(kept) == 30 and first.n_seen == 40
    assert {x < 20 for x in kept} == {True, False}
