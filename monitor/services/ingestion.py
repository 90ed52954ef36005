"""Storing what sidecars send: inference records and late labels, one transaction per batch."""

from sqlmodel import Session

from monitor.entities.inference import InferenceBatch, IngestResult
from monitor.entities.label import LabelBatch, LabelResult
from monitor.entities.registered_model import RegisteredModel
from monitor.ingest.records import validate_inferences, validate_labels
from monitor.ingest.writers import write_inferences, write_labels
from monitor.store.types import utc_now


def ingest_inferences(
    *, session: Session, model: RegisteredModel, batch: InferenceBatch
) -> IngestResult:
    """Validate the whole batch, then insert it; returns only after the commit."""
    now = utc_now()
    rows = validate_inferences(model.data_schema, batch.records, now)
    assert model.id is not None
    inserted = write_inferences(session.connection(), model.id, rows, now)
    session.commit()
    return IngestResult(accepted=inserted, duplicates=len(rows) - inserted)


def ingest_labels(*, session: Session, model: RegisteredModel, batch: LabelBatch) -> LabelResult:
    now = utc_now()
    rows = validate_labels(model.data_schema, batch.labels, now)
    assert model.id is not None
    inserted, updated = write_labels(session.connection(), model.id, rows, now)
    session.commit()
    return LabelResult(accepted=inserted, updated=updated)
