"""Late labels re-open the windows they belong to: ingestion marks the quality rows whose records
span the labelled requests as stale (one indexed update per batch), and a scheduler job
re-evaluates only those windows."""

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Engine, func, select, update
from sqlmodel import Session

from monitor.entities.inference import InferenceRecord
from monitor.entities.monitor import Monitor
from monitor.entities.quality import QualityResult
from monitor.entities.reference import ReferenceDataset
from monitor.entities.registered_model import RegisteredModel
from monitor.runs.quality import QualityRows, evaluate_quality, label_revision, wants_quality
from monitor.runs.quality_state import Judged, store_quality
from monitor.runs.window_frames import window_for
from monitor.services.references import reference_for
from monitor.windows.reader import VersionScope, read_window

log = logging.getLogger(__name__)

# Windows re-evaluated per job call, oldest first; the rest wait for the next call.
REFRESH_BATCH = 50

_record = InferenceRecord.__table__  # type: ignore[attr-defined]
_result = QualityResult.__table__  # type: ignore[attr-defined]


def mark_relabelled_windows(
    connection: Connection, model_id: int, request_ids: Sequence[str]
) -> int:
    """Mark stale every quality row whose records' time span meets the labelled records' span;
    returns the rows marked. Runs inside the label batch's transaction."""
    first, last = connection.execute(
        select(func.min(_record.c.timestamp), func.max(_record.c.timestamp))
        .where(_record.c.model_id == model_id)
        .where(_record.c.request_id.in_(request_ids))
    ).one()
    if first is None:
        return 0  # labels ahead of their records: the run that sees the records reads them
    marked = connection.execute(
        update(_result)
        .where(_result.c.model_id == model_id)
        .where(_result.c.last_record_at >= first)
        .where(_result.c.first_record_at <= last)
        .values(label_revision=_result.c.label_revision + 1, stale=True)
    )
    return int(marked.rowcount)


def refresh_stale_quality(engine: Engine, limit: int = REFRESH_BATCH) -> int:
    """Re-evaluate the stale windows (the scheduler's housekeeping job); returns how many. A
    window that fails is logged and left stale, to be tried again on the next call."""
    with Session(engine) as session:
        stale = session.execute(
            select(
                _result.c.monitor_id,
                _result.c.window_end,
                func.max(_result.c.run_id),
                func.max(_result.c.model_version),
                func.max(_result.c.reference_id),
            )
            .where(_result.c.stale)
            .group_by(_result.c.monitor_id, _result.c.window_end)
            .order_by(_result.c.window_end)
            .limit(limit)
        ).all()
    for monitor_id, window_end, run_id, version, reference_id in stale:
        try:
            _refresh_window(engine, monitor_id, window_end, Judged(run_id, version, reference_id))
        except Exception:
            log.exception("re-evaluating monitor %s's quality at %s failed", monitor_id, window_end)
    return len(stale)


def _judged_reference(session: Session, model: RegisteredModel, judged: Judged) -> ReferenceDataset:
    """The reference the window was judged against, else its version's current one."""
    stored = session.get(ReferenceDataset, judged.reference_id) if judged.reference_id else None
    return stored or reference_for(session=session, model=model, version=judged.model_version)


def _refresh_window(engine: Engine, monitor_id: int, window_end: datetime, judged: Judged) -> None:
    """Re-judge the window's records of the version it judged, against the same reference."""
    with Session(engine, expire_on_commit=False) as session:
        monitor = session.get_one(Monitor, monitor_id)
        model = session.get_one(RegisteredModel, monitor.model_id)
        reference = _judged_reference(session, model, judged)
        settings = monitor.settings
        window = window_for(settings, window_end)
        connection = session.connection()
        pinned = settings.model_version is not None
        scope = VersionScope.judged(judged.model_version, pinned=pinned)
        quality = None
        if wants_quality(reference, settings.quality):
            revision = label_revision(connection, monitor_id, window.end)
            rows = QualityRows(model.data_schema)
            model_id: int = model.id  # type: ignore[assignment]
            schema, columns = model.data_schema, rows.read_columns
            for batch in read_window(connection, model_id, schema, window, scope, columns):
                rows.add(connection, model_id, batch)
            quality = evaluate_quality(
                reference=reference, settings=settings.quality, rows=rows, revision=revision
            )
        if quality is None:
            # Nothing to judge with any more (quality turned off, a reference without labels
            # since, records gone): the stored figures stand, no longer stale.
            session.execute(
                update(_result)
                .where(_result.c.monitor_id == monitor_id)
                .where(_result.c.window_end == window_end)
                .values(stale=False)
            )
        else:
            store_quality(
                session,
                monitor=monitor,
                model=model,
                window=window,
                quality=quality,
                judged=Judged(judged.run_id, judged.model_version, reference.id),
            )
        session.commit()
