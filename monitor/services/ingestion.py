"""Storing what sidecars send: inference records and late labels, one transaction per batch."""

from sqlalchemy import distinct, func, select
from sqlmodel import Session, col

from monitor.entities.inference import InferenceBatch, InferenceRecord, IngestResult
from monitor.entities.label import LabelBatch, LabelResult
from monitor.entities.registered_model import RegisteredModel
from monitor.ingest.records import validate_inferences, validate_labels
from monitor.ingest.writers import write_inferences, write_labels
from monitor.runs.relabelling import mark_relabelled_windows
from monitor.store.types import utc_now
from monitor.windows.store import write_segment


def ingest_inferences(
    *, session: Session, model: RegisteredModel, batch: InferenceBatch
) -> IngestResult:
    """Validate the whole batch, then insert it; returns only after the commit."""
    now = utc_now()
    schema = model.data_schema
    rows = validate_inferences(schema, batch.records, now)
    assert model.id is not None
    connection = session.connection()
    inserted = write_inferences(connection, model.id, rows, now)
    write_segment(connection, model.id, schema, inserted, now)
    session.commit()
    return IngestResult(accepted=len(inserted), duplicates=len(rows) - len(inserted))


def ingest_labels(*, session: Session, model: RegisteredModel, batch: LabelBatch) -> LabelResult:
    now = utc_now()
    rows = validate_labels(model.data_schema, batch.labels, now)
    assert model.id is not None
    connection = session.connection()
    request_ids = [row.request_id for row in rows]
    inserted, updated = write_labels(connection, model.id, rows, now)
    mark_relabelled_windows(connection, model.id, request_ids)
    matched = connection.execute(
        select(func.count(distinct(col(InferenceRecord.request_id))))
        .where(col(InferenceRecord.model_id) == model.id)
        .where(col(InferenceRecord.request_id).in_(request_ids))
    ).scalar_one()
    session.commit()
    return LabelResult(
        accepted=inserted, updated=updated, unmatched=len(set(request_ids)) - matched
    )
