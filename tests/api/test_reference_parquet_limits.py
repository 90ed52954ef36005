"""Parquet reference uploads are judged from their footer before any data is read: row groups
past MONITOR_MAX_REFERENCE_ROW_GROUP_BYTES are refused with 413, missing or nested columns with
422, and columns the model does not have are never read. Files written by pyarrow."""

import io
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from monitor.api.app import create_app
from monitor.entities.reference import ReferenceDataset
from monitor.settings import Settings
from tests.factories import model_payload

URL = "/api/v1/models/churn/reference"
ROWS = 20_000
ROW_GROUP_LIMIT = 128 * 1024  # the model's columns of 20,000 rows take ~330 KiB uncompressed
PARQUET = {"content-type": "application/vnd.apache.parquet"}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    limited = settings.model_copy(update={"max_reference_row_group_bytes": ROW_GROUP_LIMIT})
    with TestClient(create_app(limited)) as test_client:
        yield test_client


@pytest.fixture
def churn(client: TestClient, admin: dict[str, str]) -> None:
    assert client.post("/api/v1/models", json=model_payload(), headers=admin).status_code == 201


def _table(rows: int = ROWS, **extra: pa.Array) -> pa.Table:
    rng = np.random.default_rng(16)  # distinct floats: no dictionary shrinks them
    columns = {
        "age": pa.array(rng.uniform(18, 90, rows)),
        "plan": pa.array([["free", "pro", None][i % 3] for i in range(rows)]),
        "vip": pa.array([i % 7 == 0 for i in range(rows)]),
        "prediction": pa.array(rng.uniform(0, 1, rows)),
        **extra,
    }
    return pa.table(columns)


def _parquet(table: pa.Table, row_group_size: int) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=row_group_size)
    return sink.getvalue()


def _references(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(ReferenceDataset)).one()


def test_a_row_group_past_the_limit_is_refused_with_413_naming_it(
    client: TestClient, admin: dict[str, str], churn: None, engine: Engine
) -> None:
    body = _parquet(_table(), row_group_size=ROWS)
    reply = client.post(URL, content=body, headers={**admin, **PARQUET})
    assert reply.status_code == 413
    detail = reply.json()["detail"]
    assert "row group 0" in detail
    assert f"the limit is {ROW_GROUP_LIMIT}" in detail
    assert "MONITOR_MAX_REFERENCE_ROW_GROUP_BYTES" in detail
    assert "row_group_size" in detail  # the fix
    assert _references(engine) == 0


def test_the_same_rows_in_small_row_groups_are_accepted(
    client: TestClient, admin: dict[str, str], churn: None
) -> None:
    body = _parquet(_table(), row_group_size=2_000)
    reply = client.post(URL, content=body, headers={**admin, **PARQUET})
    assert reply.status_code == 201, reply.text
    assert reply.json()["row_count"] == ROWS


def test_a_missing_column_is_named_from_the_footer_before_any_data_is_read(
    client: TestClient, admin: dict[str, str], churn: None
) -> None:
    body = bytearray(_parquet(_table(2_000).drop_columns(["vip"]), row_group_size=2_000))
    # Scramble the data pages (the footer, at the end, stays intact): had the upload been read,
    # it would fail on the data instead of naming the missing column.
    body[8 : len(body) // 2] = bytes(len(body) // 2 - 8)
    reply = client.post(URL, content=bytes(body), headers={**admin, **PARQUET})
    assert reply.status_code == 422
    [error] = reply.json()["detail"]
    assert error["loc"] == ["body", "columns"]
    assert "['vip']" in error["msg"]


def test_a_nested_column_is_refused_with_422_naming_it(
    client: TestClient, admin: dict[str, str], churn: None
) -> None:
    table = _table(100).set_column(0, "age", pa.array([[1.0, 2.0]] * 100))
    reply = client.post(URL, content=_parquet(table, 100), headers={**admin, **PARQUET})
    assert reply.status_code == 422
    [error] = reply.json()["detail"]
    assert error["loc"] == ["body", "columns.age"]
    assert "list<element: double>" in error["msg"]


def test_columns_the_model_lacks_are_not_read_nor_counted_against_the_limit(
    client: TestClient, admin: dict[str, str], churn: None
) -> None:
    notes = pa.array(["x" * 500] * 2_000)  # ~1 MB per row group, far past the limit
    body = _parquet(_table(2_000, notes=notes), row_group_size=2_000)
    reply = client.post(URL, content=body, headers={**admin, **PARQUET})
    assert reply.status_code == 201, reply.text
    assert reply.json()["ignored_columns"] == ["notes"]


def test_a_footer_past_its_limit_is_refused_with_413(
    client: TestClient, admin: dict[str, str], churn: None
) -> None:
    claimed = (64 * 1024 * 1024).to_bytes(4, "little")
    body = b"PAR1" + bytes(64) + claimed + b"PAR1"
    reply = client.post(URL, content=body, headers={**admin, **PARQUET})
    assert reply.status_code == 413
    assert "metadata (footer)" in reply.json()["detail"]
