"""The training export of a retraining run: the champion's reference data set plus recent
production records joined to their labels, as Parquet; the newest labelled records are held out,
never trained on: the gate scores them, and they become the candidate's reference."""

import io
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Connection, and_, select

from monitor.entities.inference import InferenceRecord
from monitor.entities.label import GroundTruthLabel
from monitor.entities.monitor import WindowSpec, parse_duration
from monitor.entities.reference import ReferenceChunk
from monitor.entities.registered_model import ModelSchema, Task
from monitor.windows.reader import Window, load_window
from monitor.windows.segments import FEATURE_TYPES, REQUEST_ID, TIMESTAMP

TRAINING_FILE = "training.parquet"
HOLDOUT_FILE = "holdout.parquet"
LABEL = "label"
SOURCE = "source"  # "reference" or "production"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TIME = pa.timestamp("us", tz="UTC")

_record = InferenceRecord.__table__  # type: ignore[attr-defined]
_label = GroundTruthLabel.__table__  # type: ignore[attr-defined]
_chunk = ReferenceChunk.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class ExportSummary:
    directory: Path
    window: Window
    rows_reference: int
    rows_production: int  # exported for training (the held-out records are not among them)
    rows_labelled: int  # production records with a label, held-out ones included
    rows_holdout: int

    @property
    def training_path(self) -> Path:
        return self.directory / TRAINING_FILE

    @property
    def holdout_path(self) -> Path:
        return self.directory / HOLDOUT_FILE


def training_window(spec: WindowSpec, end: datetime) -> Window:
    if spec.duration is not None:
        return Window(start=end - parse_duration(spec.duration), end=end)
    return Window(start=EPOCH, end=end, last=spec.last_records)


def label_type(schema: ModelSchema) -> pa.DataType:
    return pa.float64() if schema.task is Task.REGRESSION else pa.string()


def export_schema(schema: ModelSchema) -> pa.Schema:
    """Features (typed by kind), `label`, `source`, and `request_id`/`timestamp` (production
    records only; null for reference rows)."""
    return pa.schema(
        [
            *(pa.field(f.name, FEATURE_TYPES[f.kind]) for f in schema.features),
            pa.field(LABEL, label_type(schema)),
            pa.field(SOURCE, pa.string()),
            pa.field(REQUEST_ID, pa.string()),
            pa.field(TIMESTAMP, _TIME),
        ]
    )


def _conform(table: pa.Table, target: pa.Schema, source: str) -> pa.Table:
    """`table`'s columns of `target`, cast; missing ones (a reference without labels) as nulls."""
    columns = []
    for field in target:
        if field.name == SOURCE:
            columns.append(pa.array([source] * len(table), pa.string()))
        elif field.name in table.column_names:
            columns.append(table.column(field.name).cast(field.type))
        else:
            columns.append(pa.nulls(len(table), field.type))
    return pa.Table.from_arrays(columns, schema=target)


def _reference_tables(connection: Connection, dataset_id: int | None) -> list[pa.Table]:
    if dataset_id is None:
        return []
    blobs = connection.execute(
        select(_chunk.c.parquet).where(_chunk.c.dataset_id == dataset_id).order_by(_chunk.c.seq)
    ).scalars()
    return [pq.read_table(io.BytesIO(blob)) for blob in blobs]


def _labels(connection: Connection, model_id: int, window: Window, schema: ModelSchema) -> pa.Table:
    """(request_id, label) of the labelled records inside the window."""
    rows = connection.execute(
        select(_label.c.request_id, _label.c.value)
        .select_from(
            _label.join(
                _record,
                and_(
                    _record.c.model_id == _label.c.model_id,
                    _record.c.request_id == _label.c.request_id,
                ),
            )
        )
        .where(_label.c.model_id == model_id)
        .where(_record.c.timestamp >= window.start)
        .where(_record.c.timestamp < window.end)
    ).all()
    values = [row[1] for row in rows]
    if schema.task is not Task.REGRESSION:
        values = [None if value is None else str(value) for value in values]
    return pa.table(
        {
            REQUEST_ID: pa.array([row[0] for row in rows], pa.string()),
            LABEL: pa.array(values, label_type(schema)),
        }
    )


def _production(
    connection: Connection, model_id: int, schema: ModelSchema, window: Window
) -> pa.Table:
    """The window's records with their labels (null where none arrived), oldest first."""
    records = load_window(connection, model_id, schema, window, scope=None)
    keep = [REQUEST_ID, TIMESTAMP, *schema.feature_names]
    if not len(records):
        return records.select(keep).append_column(LABEL, pa.nulls(0, label_type(schema)))
    # Labels of the records actually loaded: from the oldest one on, not the window's start
    # (a `last_records` window starts at the epoch).
    oldest = pc.min(records.column(TIMESTAMP)).as_py()
    labels = _labels(connection, model_id, Window(start=oldest, end=window.end), schema)
    joined = records.select(keep).join(labels, REQUEST_ID, join_type="left outer")
    return joined.sort_by(TIMESTAMP)


def _holdout_mask(production: pa.Table, fraction: float) -> npt.NDArray[np.bool_]:
    """True for the newest `fraction` of the labelled records (rows are oldest first)."""
    labelled = np.flatnonzero(pc.is_valid(production.column(LABEL)).to_numpy(zero_copy_only=False))
    held = math.ceil(len(labelled) * fraction) if len(labelled) else 0
    mask = np.zeros(len(production), dtype=bool)
    if held:
        mask[labelled[-held:]] = True
    return mask


def build_export(
    connection: Connection,
    *,
    model_id: int,
    schema: ModelSchema,
    window: Window,
    holdout_fraction: float,
    directory: Path,
    reference_id: int | None,
) -> ExportSummary:
    """Write `training.parquet` (the reference `reference_id`, the champion's, and production
    records, held-out ones left out) and `holdout.parquet` (the newest labelled production
    records) into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    target = export_schema(schema)
    production = _production(connection, model_id, schema, window)
    holdout = _holdout_mask(production, holdout_fraction)
    rows_reference = 0
    with pq.ParquetWriter(directory / TRAINING_FILE, target, compression="zstd") as writer:
        for chunk in _reference_tables(connection, reference_id):
            writer.write_table(_conform(chunk, target, "reference"))
            rows_reference += len(chunk)
        training = production.filter(pa.array(~holdout))
        writer.write_table(_conform(training, target, "production"))
    held_out = _conform(production.filter(pa.array(holdout)), target, "production")
    pq.write_table(held_out, directory / HOLDOUT_FILE, compression="zstd")
    return ExportSummary(
        directory=directory,
        window=window,
        rows_reference=rows_reference,
        rows_production=len(training),
        rows_labelled=int(pc.sum(pc.is_valid(production.column(LABEL))).as_py() or 0),
        rows_holdout=len(held_out),
    )
