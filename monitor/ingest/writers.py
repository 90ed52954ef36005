"""Batch writes of validated rows, idempotent on (model, request_id).

PostgreSQL gets one `INSERT ... SELECT FROM jsonb_to_recordset(batch)` per batch: a single
round trip with the whole batch as one JSON document, serialised by orjson in C. (Binding one
array per column cost more Python time than everything else in the request together, because
psycopg quotes array elements in Python.) SQLite gets a multi-row
`INSERT ... ON CONFLICT DO NOTHING` inside the caller's transaction. Both return the request ids
they inserted, so the batch's columnar segment holds exactly the new rows.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, CursorResult, select
from sqlalchemy.dialects import postgresql, sqlite

from monitor.entities.inference import InferenceRecord
from monitor.entities.label import GroundTruthLabel
from monitor.ingest.records import InferenceRow, LabelRow

# The recordset's column names are the fields of `InferenceRow`, which orjson serialises as is
# (datetimes as RFC 3339 with their offset). A JSON null reads as SQL NULL there, so a failed
# request's missing prediction is put back as JSON null.
_PG_INSERT_INFERENCES = """
INSERT INTO inference_record (model_id, received_at, request_id, timestamp, model_version,
    variant, features, prediction, latency_ms, status_code)
SELECT %s, %s, r.request_id, r.timestamp, r.model_version, r.variant, r.features,
    COALESCE(r.prediction, 'null'::jsonb), r.latency_ms, r.status_code
FROM jsonb_to_recordset(%s::jsonb) AS r(request_id text, "timestamp" timestamptz,
    model_version text, variant text, features jsonb, prediction jsonb, latency_ms float8,
    status_code int4)
ON CONFLICT (model_id, request_id) DO NOTHING
RETURNING request_id
"""


def write_inferences(
    connection: Connection, model_id: int, rows: Sequence[InferenceRow], received_at: datetime
) -> list[InferenceRow]:
    """Insert `rows`, skipping request ids already stored (or repeated in the batch); return
    the rows actually inserted, in batch order."""
    if connection.dialect.name == "postgresql":
        result = connection.exec_driver_sql(
            _PG_INSERT_INFERENCES, (model_id, received_at, orjson.dumps(rows).decode())
        )
    else:
        result = _sqlite_insert(connection, model_id, rows, received_at)
    return _first_of_each(rows, set(result.scalars()))


def _first_of_each(rows: Sequence[InferenceRow], inserted: set[str]) -> list[InferenceRow]:
    kept = []
    for row in rows:
        if row.request_id in inserted:
            kept.append(row)
            inserted.discard(row.request_id)  # a repeat within the batch was not inserted
    return kept


def _sqlite_insert(
    connection: Connection, model_id: int, rows: Sequence[InferenceRow], received_at: datetime
) -> CursorResult[Any]:
    table = InferenceRecord.__table__  # type: ignore[attr-defined]
    statement = (
        sqlite.insert(table)
        .on_conflict_do_nothing(index_elements=["model_id", "request_id"])
        .returning(table.c.request_id)
    )
    return connection.execute(
        statement,
        [
            {
                "model_id": model_id,
                "received_at": received_at,
                "request_id": row.request_id,
                "timestamp": row.timestamp,
                "model_version": row.model_version,
                "variant": row.variant,
                "features": row.features,
                "prediction": row.prediction,
                "latency_ms": row.latency_ms,
                "status_code": row.status_code,
            }
            for row in rows
        ],
    )


def write_labels(
    connection: Connection, model_id: int, rows: Sequence[LabelRow], received_at: datetime
) -> tuple[int, int]:
    """Upsert labels (a later label corrects an earlier one); return (inserted, updated)."""
    table = GroundTruthLabel.__table__  # type: ignore[attr-defined]
    existing = set(
        connection.scalars(
            select(table.c.request_id).where(
                table.c.model_id == model_id,
                table.c.request_id.in_([row.request_id for row in rows]),
            )
        )
    )
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(table)
    statement = insert.on_conflict_do_update(
        index_elements=["model_id", "request_id"],
        set_={
            "value": insert.excluded.value,
            "timestamp": insert.excluded.timestamp,
            "received_at": insert.excluded.received_at,
        },
    )
    connection.execute(
        statement,
        [
            {
                "model_id": model_id,
                "request_id": row.request_id,
                "value": row.value,
                "timestamp": row.timestamp,
                "received_at": received_at,
            }
            for row in rows
        ],
    )
    updated = sum(1 for row in rows if row.request_id in existing)
    return len(rows) - updated, updated
