"""The fleet benchmark's data: N registered models of 24 features, each with a reference, an
hourly monitor and one window of records, written in bulk (COPY) so populating a thousand models
takes seconds, not the benchmark's time. Records go where ingestion puts them: the JSONB log
(`inference_record`) and one columnar segment per model (`inference_segment`)."""

import io
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from sqlalchemy import Engine, text
from sqlmodel import Session

from detectors.prediction import PREDICTION
from monitor.entities.monitor import MonitorCreate
from monitor.entities.registered_model import ModelSchema, RegisteredModelCreate
from monitor.ingest.reference import ReferenceFormat
from monitor.services import models, monitors, references
from monitor.windows.segments import encode_table, score_columns, segment_schema

NUMERICAL = [f"num_{i}" for i in range(20)]
CATEGORICAL = [f"cat_{i}" for i in range(4)]
REFERENCE_ROWS = 5_000
MODELS_PER_COPY = 50


def frame(rows: int, seed: int, shift: float) -> pd.DataFrame:
    """24 features and a score; `shift` moves the first two numerical features."""
    rng = np.random.default_rng(seed)
    data = pd.DataFrame(
        {n: rng.normal(shift if i < 2 else 0.0, 1.0, rows) for i, n in enumerate(NUMERICAL)}
    )
    for k, name in enumerate(CATEGORICAL):
        data[name] = rng.choice([f"c{j}" for j in range(5 + k)], rows)
    data[PREDICTION] = rng.uniform(0, 1, rows)
    return data


def _register(session: Session, index: int) -> tuple[int, ModelSchema]:
    features = [{"name": n, "kind": "numerical"} for n in NUMERICAL]
    features += [{"name": n, "kind": "categorical"} for n in CATEGORICAL]
    model = models.register_model(
        session=session,
        model_in=RegisteredModelCreate(
            name=f"fleet-{index:05d}", task="binary_classification", features=features
        ),
    )
    monitors.create_monitor(
        session=session,
        model=model,
        monitor_in=MonitorCreate(window={"duration": "1h"}, schedule={"every": "1h"}, min_rows=100),
    )
    assert model.id is not None
    return model.id, model.data_schema


def _clone_reference(engine: Engine, source_model: int, model_ids: list[int]) -> None:
    """The same reference for every model: profiled once, copied by SQL (as a shared training
    set would be uploaded to each)."""
    with engine.begin() as connection:
        columns = list(
            connection.execute(
                text(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = 'reference_dataset' AND column_name NOT IN ('id', "
                    "'model_id') ORDER BY ordinal_position"
                )
            ).scalars()
        )
        listed = ", ".join(columns)
        connection.execute(
            text(
                f"WITH copied AS (INSERT INTO reference_dataset (model_id, {listed}) "
                f"SELECT m, {listed} FROM reference_dataset r, unnest(:models) AS m "
                "WHERE r.model_id = :source RETURNING id) SELECT count(*) FROM copied"
            ),
            {"models": model_ids, "source": source_model},
        )
        connection.execute(
            text(
                "INSERT INTO reference_chunk (dataset_id, seq, row_count, parquet) "
                "SELECT d.id, c.seq, c.row_count, c.parquet FROM reference_dataset d "
                "JOIN reference_dataset s ON s.model_id = :source "
                "JOIN reference_chunk c ON c.dataset_id = s.id WHERE d.model_id <> :source"
            ),
            {"source": source_model},
        )


def _json_features(table: pa.Table) -> pa.Array:
    """Each row's features as a JSON object, built by Arrow kernels (no Python per value)."""
    parts: list[pa.Array | str] = []
    for i, name in enumerate(NUMERICAL + CATEGORICAL):
        values = pc.cast(table.column(name), pa.string())
        quote = '"' if name in CATEGORICAL else ""
        parts += [("{" if i == 0 else ",") + f'"{name}":{quote}', values, quote]
    parts.append("}")
    return pc.binary_join_element_wise(*parts, "")


def _window(schema: ModelSchema, model_id: int, rows: int, end: datetime) -> pa.Table:
    data = frame(rows, seed=model_id + 7, shift=0.3 if model_id % 2 else 0.0)
    labels = schema.class_labels or ["0", "1"]
    data[score_columns(schema)[0]] = data[PREDICTION]
    data[PREDICTION] = np.where(data[PREDICTION] >= 0.5, labels[1], labels[0])
    data["request_id"] = [f"m{model_id}-r{i}" for i in range(rows)]
    span = timedelta(minutes=50).total_seconds()
    offsets = pd.to_timedelta(np.linspace(span, 60, rows), unit="s")
    data["timestamp"] = (pd.Timestamp(end) - offsets).floor("us")
    for name in ("model_version", "variant", "latency_ms", "status_code"):
        data[name] = None
    return pa.Table.from_pandas(data, schema=segment_schema(schema), preserve_index=False)


def _copy_windows(url: str, windows: dict[int, pa.Table], score: str, received: datetime) -> None:
    logs = []
    for model_id, table in windows.items():
        logs.append(
            pa.table(
                {
                    "model_id": pa.array([model_id] * table.num_rows, pa.int64()),
                    "received_at": pa.array([received] * table.num_rows, table["timestamp"].type),
                    "request_id": table["request_id"],
                    "timestamp": table["timestamp"],
                    "features": _json_features(table),
                    "prediction": table.column(score).cast(pa.string()),
                }
            )
        )
    buffer = io.BytesIO()
    pa_csv.write_csv(pa.concat_tables(logs), buffer)
    with psycopg.connect(url.replace("+psycopg", "")) as connection, connection.cursor() as cur:
        with cur.copy(
            "COPY inference_record (model_id, received_at, request_id, timestamp, features, "
            "prediction) FROM STDIN (FORMAT csv, HEADER)"
        ) as copy:
            copy.write(buffer.getvalue())
        with cur.copy(
            "COPY inference_segment (model_id, min_timestamp, max_timestamp, row_count, arrow, "
            "created_at) FROM STDIN"
        ) as copy:
            for model_id, table in windows.items():
                times = table["timestamp"]
                copy.write_row(
                    (
                        model_id,
                        pc.min(times).as_py(),
                        pc.max(times).as_py(),
                        table.num_rows,
                        encode_table(table),
                        received,
                    )
                )


def populate(engine: Engine, url: str, count: int, rows: int, end: datetime) -> float:
    """Register `count` models with their monitors, references and one window of `rows`
    records each, ending just before `end`; returns the seconds it took."""
    started = time.perf_counter()
    registered: list[tuple[int, ModelSchema]] = []
    with Session(engine, expire_on_commit=False) as session:
        for index in range(count):
            registered.append(_register(session, index))
        first = models.get_model(session=session, name="fleet-00000")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "reference.parquet"
            frame(REFERENCE_ROWS, seed=1, shift=0.0).to_parquet(path)
            references.store_reference(
                session=session,
                model=first,
                path=path,
                fmt=ReferenceFormat.PARQUET,
                rows_per_chunk=65_536,
            )
    _clone_reference(engine, registered[0][0], [model_id for model_id, _ in registered[1:]])
    print(f"  models, monitors and references: {time.perf_counter() - started:.0f} s", flush=True)
    for offset in range(0, count, MODELS_PER_COPY):
        batch = registered[offset : offset + MODELS_PER_COPY]
        windows = {model_id: _window(schema, model_id, rows, end) for model_id, schema in batch}
        _copy_windows(url, windows, score_columns(registered[0][1])[0], end)
    return time.perf_counter() - started
