"""Storing a model version's reference data set: validated batch by batch, written as Parquet
chunks, and made the version's active one in one transaction (a failed upload leaves the
previous reference in place); earlier references stay as history."""

import io
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select, update

from monitor.entities.reference import (
    ReferenceChunk,
    ReferenceDataset,
    ReferenceHistory,
    ReferencePublic,
    ReferenceSource,
    ReferenceStatus,
    ReferenceSummary,
)
from monitor.entities.registered_model import ModelSchema, RegisteredModel
from monitor.ingest.parquet_plan import plan_parquet_read
from monitor.ingest.reference import LABEL, BatchNormaliser, ReferenceFormat, read_batches
from monitor.services.errors import NotFound, Unprocessable
from monitor.services.profiles import (
    ChunkSource,
    fit_feature_profile,
    fit_multivariate_profile,
    fit_output_profile,
    fit_performance,
)

# Largest row group of a Parquet reference, uncompressed, over the columns read (one row group
# is in memory at a time); the API passes MONITOR_MAX_REFERENCE_ROW_GROUP_BYTES.
DEFAULT_MAX_ROW_GROUP_BYTES = 256 * 1024 * 1024


class ReferenceUploadResult(ReferencePublic):
    ignored_columns: list[str]


def _parquet_bytes(batches: list[pa.RecordBatch]) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_batches(batches), sink, compression="zstd")
    return sink.getvalue()


def _chunks(batches: Iterable[pa.RecordBatch], rows_per_chunk: int) -> Iterable[bytes]:
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    for batch in batches:
        pending.append(batch)
        pending_rows += batch.num_rows
        if pending_rows >= rows_per_chunk:
            yield _parquet_bytes(pending)
            pending, pending_rows = [], 0
    if pending_rows:
        yield _parquet_bytes(pending)


def store_reference(
    *,
    session: Session,
    model: RegisteredModel,
    path: Path,
    fmt: ReferenceFormat,
    rows_per_chunk: int,
    model_version: str | None = None,
    source: ReferenceSource = ReferenceSource.UPLOAD,
    retraining_run_id: int | None = None,
    max_row_group_bytes: int = DEFAULT_MAX_ROW_GROUP_BYTES,
) -> ReferenceUploadResult:
    """Store the file as `model_version`'s reference (None: unversioned, the fallback of every
    version without one); it supersedes that version's earlier one only. A Parquet file's
    columns and row-group sizes are checked from its footer before any data is read."""
    normaliser = BatchNormaliser(model.data_schema)
    parquet_columns, ignored = None, []
    if fmt is ReferenceFormat.PARQUET:
        plan = plan_parquet_read(path, model.data_schema, max_row_group_bytes)
        parquet_columns, ignored = plan.columns, plan.ignored
    dataset = ReferenceDataset(
        model_id=model.id,  # type: ignore[arg-type]
        model_version=model_version,
        source=source,
        retraining_run_id=retraining_run_id,
        status=ReferenceStatus.ACTIVE,
        source_format=fmt.value,
        row_count=0,
        columns=[],
        stored_bytes=0,
    )
    session.add(dataset)
    session.flush()
    try:
        stored = _store_chunks(
            session,
            dataset,
            normaliser,
            read_batches(path, fmt, model.data_schema, rows_per_chunk, parquet_columns),
            rows_per_chunk,
        )
        if normaliser.rows == 0 or normaliser.target is None:
            raise Unprocessable("file", "the reference holds no rows; upload at least one row")

        def chunks() -> Iterable[bytes]:
            return session.exec(
                select(ReferenceChunk.parquet)
                .where(ReferenceChunk.dataset_id == dataset.id)
                .order_by(col(ReferenceChunk.seq))
                .execution_options(yield_per=1)
            )

        dataset.feature_profile = fit_feature_profile(model.data_schema, chunks).to_json()
        dataset.output_profile = fit_output_profile(model.data_schema, chunks).to_json()
        has_label = LABEL in normaliser.target.names
        _fit_quality_documents(dataset, model.data_schema, chunks, normaliser.rows, has_label)
    except Exception:
        session.rollback()
        raise
    session.exec(
        update(ReferenceDataset)
        .where(col(ReferenceDataset.model_id) == model.id)
        .where(_of_version(model_version))
        .where(col(ReferenceDataset.id) != dataset.id)
        .values(status=ReferenceStatus.SUPERSEDED)
    )
    dataset.row_count = normaliser.rows
    dataset.stored_bytes = stored
    dataset.columns = [{"name": f.name, "type": str(f.type)} for f in normaliser.target]
    session.add(dataset)
    session.commit()
    session.refresh(dataset)
    return ReferenceUploadResult(
        **ReferencePublic.model_validate(dataset, from_attributes=True).model_dump(),
        ignored_columns=ignored + normaliser.ignored_columns,
    )


def _fit_quality_documents(
    dataset: ReferenceDataset, schema: ModelSchema, chunks: ChunkSource, rows: int, has_label: bool
) -> None:
    """The model-quality baseline and estimator (labelled references only) and the
    multivariate profile, stored beside the drift profiles."""
    if has_label:
        baseline, estimator = fit_performance(schema, chunks)
        dataset.performance_baseline = baseline.to_json() if baseline else None
        dataset.performance_estimator = estimator.to_json() if estimator else None
    profile = fit_multivariate_profile(schema, chunks, rows)
    dataset.multivariate_profile = profile.to_json() if profile else None


def _store_chunks(
    session: Session,
    dataset: ReferenceDataset,
    normaliser: BatchNormaliser,
    batches: Iterable[pa.RecordBatch],
    rows_per_chunk: int,
) -> int:
    """Write the upload as Parquet chunks of the dataset; return the bytes stored."""
    stored = 0
    normalised = (normaliser.normalise(batch) for batch in batches if batch.num_rows)
    for seq, parquet in enumerate(_chunks(normalised, rows_per_chunk)):
        chunk = ReferenceChunk(
            dataset_id=dataset.id,  # type: ignore[arg-type]
            seq=seq,
            row_count=pq.read_metadata(io.BytesIO(parquet)).num_rows,
            parquet=parquet,
        )
        session.add(chunk)
        session.flush()
        session.expunge(chunk)  # the bytes need not stay in the session once written
        stored += len(parquet)
    return stored


def _of_version(version: str | None) -> ColumnElement[bool]:
    column = col(ReferenceDataset.model_version)
    return column.is_(None) if version is None else column == version


def _active(
    session: Session, model: RegisteredModel, version: str | None
) -> ReferenceDataset | None:
    return session.exec(
        select(ReferenceDataset)
        .where(ReferenceDataset.model_id == model.id)
        .where(ReferenceDataset.status == ReferenceStatus.ACTIVE)
        .where(_of_version(version))
    ).first()


def reference_for(
    *, session: Session, model: RegisteredModel, version: str | None
) -> ReferenceDataset:
    """The reference `version` is judged against: its own active one, else the unversioned one.
    With no version known (no champion yet), the unversioned one, else the newest active one.
    NotFound, saying how to upload one, when there is none."""
    dataset = _active(session, model, version) if version is not None else None
    dataset = dataset or _active(session, model, None)
    if dataset is None and version is None:
        dataset = session.exec(
            select(ReferenceDataset)
            .where(ReferenceDataset.model_id == model.id)
            .where(ReferenceDataset.status == ReferenceStatus.ACTIVE)
            .order_by(col(ReferenceDataset.created_at).desc(), col(ReferenceDataset.id).desc())
        ).first()
    if dataset is None:
        which = f"version {version} of model {model.name!r}" if version else f"model {model.name!r}"
        query = f"?model_version={version}" if version else ""
        raise NotFound(
            f"{which} has no reference data set; upload one with "
            f"POST /api/v1/models/{model.name}/reference{query}"
        )
    return dataset


_SUMMARY_COLUMNS = sorted(set(ReferenceSummary.model_fields) - {"has_labels"})


def reference_history(*, session: Session, model: RegisteredModel) -> ReferenceHistory:
    """Every reference of the model, newest first."""
    rows = session.exec(
        select(ReferenceDataset)
        .where(ReferenceDataset.model_id == model.id)
        .order_by(col(ReferenceDataset.created_at).desc(), col(ReferenceDataset.id).desc())
    ).all()
    data = [
        ReferenceSummary(
            **{name: getattr(row, name) for name in _SUMMARY_COLUMNS},
            has_labels=any(column["name"] == LABEL for column in row.columns),
        )
        for row in rows
    ]
    return ReferenceHistory(data=data, count=len(data))
