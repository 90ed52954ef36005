"""Retention: raw inference records and labels older than their settings are deleted in bounded
batches, each its own transaction, so housekeeping never holds a long lock or a huge undo log.
Run history, results and events stay."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, select
from sqlmodel import SQLModel, col

from monitor.entities.inference import InferenceRecord
from monitor.entities.label import GroundTruthLabel
from monitor.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Removed:
    records: int
    labels: int


def _delete_before(engine: Engine, table: type[SQLModel], cutoff: datetime, batch_rows: int) -> int:
    timestamp = col(table.timestamp)  # type: ignore[attr-defined]
    identifier = col(table.id)  # type: ignore[attr-defined]
    removed = 0
    while True:
        oldest = select(identifier).where(timestamp < cutoff).limit(batch_rows)
        with engine.begin() as connection:
            deleted = connection.execute(delete(table).where(identifier.in_(oldest))).rowcount
        removed += deleted
        if deleted < batch_rows:
            return removed


def delete_expired(*, engine: Engine, settings: Settings, now: datetime) -> Removed:
    """Delete what is past its retention; a setting left unset keeps that data for ever."""
    removed = [
        0
        if days is None
        else _delete_before(
            engine, table, now - timedelta(days=days), settings.retention_batch_rows
        )
        for table, days in (
            (InferenceRecord, settings.retention_records_days),
            (GroundTruthLabel, settings.retention_labels_days),
        )
    ]
    if any(removed):
        log.info("retention removed %d inference records and %d labels", *removed)
    return Removed(*removed)
