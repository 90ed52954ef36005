"""Retention: raw inference records (rows and columnar segments), labels, events (with their
deliveries) and retraining exports older than their settings are deleted in bounded batches,
each its own transaction, so housekeeping never holds a long lock or a huge undo log. Run
history and results stay."""

import logging
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, select, update
from sqlmodel import SQLModel, col

from monitor.entities.delivery import Delivery
from monitor.entities.delivery_attempt import DeliveryAttempt
from monitor.entities.event import Event
from monitor.entities.inference import InferenceRecord
from monitor.entities.label import GroundTruthLabel
from monitor.entities.retraining import ACTIVE_STATUSES, RetrainingRun
from monitor.entities.segment import InferenceSegment
from monitor.retraining.executor import run_directory
from monitor.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Removed:
    records: int
    labels: int
    events: int = 0
    exports: int = 0  # retraining runs whose export folder was deleted
    segments: int = 0  # columnar copies of records, once all their records are past retention


def _delete_before(
    engine: Engine,
    table: type[SQLModel],
    cutoff: datetime,
    batch_rows: int,
    time: str = "timestamp",
) -> int:
    timestamp = col(getattr(table, time))
    identifier = col(table.id)  # type: ignore[attr-defined]
    removed = 0
    while True:
        oldest = select(identifier).where(timestamp < cutoff).limit(batch_rows)
        with engine.begin() as connection:
            deleted = connection.execute(delete(table).where(identifier.in_(oldest))).rowcount
        removed += deleted
        if deleted < batch_rows:
            return removed


def _delete_events_before(engine: Engine, cutoff: datetime, batch_rows: int) -> int:
    """Events older than `cutoff`, oldest first, each batch with its deliveries and their
    attempts; retraining runs an event started keep its uid and lose only the link."""
    removed = 0
    while True:
        with engine.begin() as connection:
            ids = list(
                connection.execute(
                    select(col(Event.id))
                    .where(col(Event.time) < cutoff)
                    .order_by(col(Event.id))
                    .limit(batch_rows)
                ).scalars()
            )
            deliveries = select(col(Delivery.id)).where(col(Delivery.event_id).in_(ids))
            connection.execute(
                delete(DeliveryAttempt).where(col(DeliveryAttempt.delivery_id).in_(deliveries))
            )
            connection.execute(delete(Delivery).where(col(Delivery.event_id).in_(ids)))
            connection.execute(
                update(RetrainingRun)
                .where(col(RetrainingRun.event_id).in_(ids))
                .values(event_id=None)
            )
            connection.execute(delete(Event).where(col(Event.id).in_(ids)))
        removed += len(ids)
        if len(ids) < batch_rows:
            return removed


def _delete_exports_before(
    engine: Engine, settings: Settings, cutoff: datetime, batch_rows: int
) -> int:
    """The export folders (training and held-out Parquet, context, logs) of retraining runs
    that finished before `cutoff`; the run keeps its row, counts and verdict, `export_path`
    cleared. Files go first: a crash between leaves the path, and the next pass retries."""
    removed = 0
    while True:
        with engine.connect() as connection:
            ids = list(
                connection.execute(
                    select(col(RetrainingRun.id))
                    .where(col(RetrainingRun.export_path).is_not(None))
                    .where(col(RetrainingRun.status).not_in(ACTIVE_STATUSES))
                    .where(col(RetrainingRun.finished_at) < cutoff)
                    .order_by(col(RetrainingRun.id))
                    .limit(batch_rows)
                ).scalars()
            )
        for run_id in ids:
            assert run_id is not None
            shutil.rmtree(run_directory(settings, run_id), ignore_errors=True)
        with engine.begin() as connection:
            connection.execute(
                update(RetrainingRun).where(col(RetrainingRun.id).in_(ids)).values(export_path=None)
            )
        removed += len(ids)
        if len(ids) < batch_rows:
            return removed


def delete_expired(*, engine: Engine, settings: Settings, now: datetime) -> Removed:
    """Delete what is past its retention; a setting left unset keeps that data for ever."""
    batch = settings.retention_batch_rows

    def cutoff(days: float) -> datetime:
        return now - timedelta(days=days)

    records, labels = (
        0 if days is None else _delete_before(engine, table, cutoff(days), batch)
        for table, days in (
            (InferenceRecord, settings.retention_records_days),
            (GroundTruthLabel, settings.retention_labels_days),
        )
    )
    events_days, exports_days = settings.retention_events_days, settings.retention_exports_days
    records_days = settings.retention_records_days
    segments = (
        0
        if records_days is None
        else _delete_before(
            engine, InferenceSegment, cutoff(records_days), batch, time="max_timestamp"
        )
    )
    removed = Removed(
        records,
        labels,
        0 if events_days is None else _delete_events_before(engine, cutoff(events_days), batch),
        0
        if exports_days is None
        else _delete_exports_before(engine, settings, cutoff(exports_days), batch),
        segments,
    )
    if removed != Removed(0, 0):
        log.info(
            "retention removed %d inference records (and %d segments), %d labels, %d events "
            "and the exports of %d retraining runs",
            removed.records,
            removed.segments,
            removed.labels,
            removed.events,
            removed.exports,
        )
    return removed
