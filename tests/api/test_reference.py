"""Reference uploads: four formats in, validated Parquet chunks stored, all or nothing."""

import io
import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from monitor.entities.reference import ReferenceChunk, ReferenceDataset
from tests.factories import model_payload

URL = "/api/v1/models/churn/reference"


@pytest.fixture
def churn(client: TestClient, admin: dict[str, str]) -> None:
    client.post("/api/v1/models", json=model_payload(), headers=admin)


def _frame(rows: int = 100) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [20.0 + i % 50 for i in range(rows)],
            "plan": [["free", "pro", None][i % 3] for i in range(rows)],
            "vip": [i % 7 == 0 for i in range(rows)],
            "prediction": [(i % 10) / 10 for i in range(rows)],
            "label": [str(i % 2) for i in range(rows)],
        }
    )


def _stored_frame(engine: Engine) -> pd.DataFrame:
    with Session(engine) as session:
        chunks = session.execute(
            select(ReferenceChunk.parquet).order_by(ReferenceChunk.seq)
        ).scalars()
        return pa.concat_tables(pq.read_table(io.BytesIO(c)) for c in chunks).to_pandas()


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def _parquet(frame: pd.DataFrame) -> bytes:
    sink = io.BytesIO()
    frame.to_parquet(sink)
    return sink.getvalue()


def _ndjson(frame: pd.DataFrame) -> bytes:
    return frame.to_json(orient="records", lines=True).encode()


@pytest.mark.parametrize(
    ("encode", "content_type"),
    [
        (_csv, "text/csv"),
        (_parquet, "application/vnd.apache.parquet"),
        (_ndjson, "application/x-ndjson"),
        (lambda f: f.to_json(orient="records").encode(), "application/json"),
    ],
)
def test_each_format_stores_the_same_typed_rows(
    client: TestClient, churn: None, admin: dict[str, str], engine: Engine, encode, content_type
) -> None:
    frame = _frame()
    reply = client.post(URL, content=encode(frame), headers={**admin, "content-type": content_type})
    assert reply.status_code == 201, reply.text
    assert reply.json()["row_count"] == 100
    stored = _stored_frame(engine)
    assert list(stored.columns) == ["age", "plan", "vip", "prediction", "label"]
    assert stored["age"].dtype == "float64"
    assert stored["plan"].tolist() == frame["plan"].tolist()
    assert stored["vip"].tolist() == frame["vip"].tolist()


def test_multipart_file_upload_is_accepted(
    client: TestClient, churn: None, admin: dict[str, str]
) -> None:
    files = {"file": ("reference.parquet", _parquet(_frame()), "application/octet-stream")}
    reply = client.post(URL, files=files, headers=admin)
    assert reply.status_code == 201, reply.text
    assert reply.json()["source_format"] == "parquet"


def test_large_reference_is_split_into_chunks(
    client: TestClient, churn: None, admin: dict[str, str], engine: Engine
) -> None:
    client.app.state.settings.reference_chunk_rows = 1024  # type: ignore[attr-defined]
    reply = client.post(
        URL,
        content=_parquet(_frame(5000)),
        headers={**admin, "content-type": "application/x-parquet"},
    )
    assert reply.json()["row_count"] == 5000
    with Session(engine) as session:
        counts = session.execute(select(ReferenceChunk.row_count)).scalars().all()
    assert sum(counts) == 5000
    assert len(counts) >= 4


def test_missing_required_column_is_named(
    client: TestClient, churn: None, admin: dict[str, str]
) -> None:
    frame = _frame().drop(columns=["age"])
    reply = client.post(URL, content=_csv(frame), headers={**admin, "content-type": "text/csv"})
    assert reply.status_code == 422
    assert "['age']" in reply.json()["detail"][0]["msg"]


def test_unparsable_value_names_column_and_row(
    client: TestClient, churn: None, admin: dict[str, str]
) -> None:
    frame = _frame().astype({"age": object})
    frame.loc[17, "age"] = "old"
    reply = client.post(URL, content=_csv(frame), headers={**admin, "content-type": "text/csv"})
    assert reply.status_code == 422
    message = reply.json()["detail"][0]["msg"]
    assert "age" in message
    assert "'old' at row 17" in message


def test_missing_value_in_non_nullable_feature_names_the_row(
    client: TestClient, churn: None, admin: dict[str, str]
) -> None:
    frame = _frame()
    frame.loc[42, "age"] = None
    reply = client.post(
        URL, content=_parquet(frame), headers={**admin, "content-type": "application/x-parquet"}
    )
    assert reply.status_code == 422
    assert "first at row 42" in reply.json()["detail"][0]["msg"]


def test_infinity_is_refused_with_its_row(
    client: TestClient, churn: None, admin: dict[str, str]
) -> None:
    frame = _frame()
    frame.loc[9, "age"] = float("inf")
    reply = client.post(
        URL, content=_parquet(frame), headers={**admin, "content-type": "application/x-parquet"}
    )
    assert reply.status_code == 422
    assert "row 9" in reply.json()["detail"][0]["msg"]


def test_unknown_class_label_is_refused(
    client: TestClient, churn: None, admin: dict[str, str]
) -> None:
    frame = _frame()
    frame.loc[3, "label"] = "maybe"
    reply = client.post(URL, content=_csv(frame), headers={**admin, "content-type": "text/csv"})
    assert reply.status_code == 422
    assert "'maybe' at row 3" in reply.json()["detail"][0]["msg"]


def test_extra_columns_are_ignored_and_reported(
    client: TestClient, churn: None, admin: dict[str, str], engine: Engine
) -> None:
    frame = _frame().assign(customer_id=range(100))
    reply = client.post(URL, content=_csv(frame), headers={**admin, "content-type": "text/csv"})
    assert reply.json()["ignored_columns"] == ["customer_id"]
    assert "customer_id" not in _stored_frame(engine).columns


def test_failed_upload_keeps_the_previous_reference(
    client: TestClient, churn: None, admin: dict[str, str], engine: Engine
) -> None:
    client.app.state.settings.reference_chunk_rows = 1024  # type: ignore[attr-defined]
    good = client.post(URL, content=_csv(_frame()), headers={**admin, "content-type": "text/csv"})
    bad_frame = _frame(5000)
    bad_frame.loc[4999, "label"] = "maybe"  # fails after earlier chunks were written
    bad = client.post(URL, content=_csv(bad_frame), headers={**admin, "content-type": "text/csv"})
    assert bad.status_code == 422
    active = client.get(URL, headers=admin).json()
    assert active["id"] == good.json()["id"]
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(ReferenceDataset)).scalar() == 1
        assert sum(session.execute(select(ReferenceChunk.row_count)).scalars()) == 100


def test_new_reference_supersedes_the_old(
    client: TestClient, churn: None, admin: dict[str, str]
) -> None:
    client.post(URL, content=_csv(_frame(10)), headers={**admin, "content-type": "text/csv"})
    client.post(URL, content=_csv(_frame(20)), headers={**admin, "content-type": "text/csv"})
    assert client.get(URL, headers=admin).json()["row_count"] == 20


def test_unknown_format_is_refused_with_the_accepted_types(
    client: TestClient, churn: None, admin: dict[str, str]
) -> None:
    reply = client.post(URL, content=b"x", headers={**admin, "content-type": "image/png"})
    assert reply.status_code == 422
    assert "text/csv" in reply.json()["detail"][0]["msg"]


def test_json_reference_must_be_a_list_of_objects(
    client: TestClient, churn: None, admin: dict[str, str]
) -> None:
    body = json.dumps({"rows": [1, 2]}).encode()
    reply = client.post(URL, content=body, headers={**admin, "content-type": "application/json"})
    assert reply.status_code == 422
    assert "list of objects" in reply.json()["detail"][0]["msg"]


def test_empty_reference_is_refused(client: TestClient, churn: None, admin: dict[str, str]) -> None:
    empty = _csv(_frame(0))
    reply = client.post(URL, content=empty, headers={**admin, "content-type": "text/csv"})
    assert reply.status_code == 422


def test_reference_over_the_size_limit_is_413(
    client: TestClient, churn: None, admin: dict[str, str]
) -> None:
    client.app.state.settings.max_reference_bytes = 1024  # type: ignore[attr-defined]
    reply = client.post(URL, content=_csv(_frame()), headers={**admin, "content-type": "text/csv"})
    assert reply.status_code == 413


@pytest.mark.parametrize(
    ("encode", "content_type"), [(_csv, "text/csv"), (_parquet, "application/vnd.apache.parquet")]
)
def test_a_float_label_column_matches_integer_class_labels(
    client: TestClient, churn: None, admin: dict[str, str], engine: Engine, encode, content_type
) -> None:
    frame = _frame().assign(label=[float(i % 2) for i in range(100)])  # what pandas writes
    reply = client.post(URL, content=encode(frame), headers={**admin, "content-type": content_type})
    assert reply.status_code == 201, reply.text
    assert _stored_frame(engine)["label"].tolist() == [str(i % 2) for i in range(100)]


def test_a_multipart_reference_over_the_size_limit_is_413(
    client: TestClient, churn: None, admin: dict[str, str], engine: Engine
) -> None:
    client.app.state.settings.max_reference_bytes = 1024  # type: ignore[attr-defined]
    files = {"file": ("reference.csv", _csv(_frame()), "text/csv")}
    reply = client.post(URL, files=files, headers=admin)
    assert reply.status_code == 413
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(ReferenceDataset)).scalar() == 0


def test_a_json_reference_too_large_to_parse_whole_is_413_pointing_to_ndjson(
    client: TestClient, churn: None, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("monitor.ingest.reference.MAX_JSON_REFERENCE_BYTES", 1024)
    body = _frame().to_json(orient="records").encode()
    reply = client.post(URL, content=body, headers={**admin, "content-type": "application/json"})
    assert reply.status_code == 413
    assert "NDJSON" in reply.json()["detail"]
