"""Executing one monitor run: load the window, run the detectors against the stored profiles,
then persist the run, its results, the drift state and its events in one transaction."""

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import Engine, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from detectors import ReferenceProfile, detect_drift
from monitor.entities.event import EventType, Severity
from monitor.entities.monitor import Monitor
from monitor.entities.registered_model import RegisteredModel
from monitor.entities.run import ONE_RUN_PER_WINDOW, MonitorRun, RunStatus, RunTrigger
from monitor.runs.attribution import explain_window
from monitor.runs.outcome import RunOutcome
from monitor.runs.persist import persist_outcome
from monitor.runs.quality import evaluate_multivariate, evaluate_quality
from monitor.runs.report import render_report
from monitor.runs.window_frames import drift_config, frame_for, window_for
from monitor.services.events import record_event
from monitor.services.references import reference_for
from monitor.services.runs import runs_holding_windows
from monitor.store.types import utc_now
from monitor.versions.champion import judged_scope
from monitor.windows.reader import load_window

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0


def start_run(
    session: Session,
    *,
    monitor: Monitor,
    window_end: datetime,
    trigger: RunTrigger,
    missed_ticks: int = 0,
) -> MonitorRun | None:
    """Record a run as running (committed), so it is visible, and recoverable, at once. None
    where a scheduled or backfilled run already holds this window: a scheduler that took over
    fired the same tick, or the range was backfilled before."""
    window = window_for(monitor.settings, window_end)
    run = MonitorRun(
        monitor_id=monitor.id,  # type: ignore[arg-type]
        model_id=monitor.model_id,
        status=RunStatus.RUNNING,
        trigger=trigger,
        window_start=window.start,
        window_end=window.end,
        missed_ticks=missed_ticks,
    )
    session.add(run)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        if trigger not in ONE_RUN_PER_WINDOW or not runs_holding_windows(
            session=session,
            monitor_id=run.monitor_id,
            window_ends=[window.end],
        ):
            raise
        return None
    session.refresh(run)
    return run


@contextmanager
def _heartbeat(engine: Engine, run_id: int) -> Iterator[None]:
    """Touch the run every few seconds so a sweeper can tell a live run from an orphaned one."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            with Session(engine) as session:
                session.exec(
                    update(MonitorRun)
                    .where(col(MonitorRun.id) == run_id)
                    .values(heartbeat_at=utc_now())
                )
                session.commit()

    thread = threading.Thread(target=beat, name=f"run-{run_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def execute_run(engine: Engine, run_id: int, tracking_uri: str | None = None) -> MonitorRun:
    """Compute and persist a started run; a crash is recorded as a failed run with its error.
    `tracking_uri` is the MLflow store holding the model SHAP explains, when a monitor asks."""
    with _heartbeat(engine, run_id):
        try:
            outcome = _compute(engine, run_id, tracking_uri)
        except Exception as error:
            log.exception("monitor run %s failed", run_id)
            return fail_run(engine, run_id, f"{type(error).__name__}: {error}")
    with Session(engine, expire_on_commit=False) as session:
        return persist_outcome(session, run_id, outcome)


def _compute(engine: Engine, run_id: int, tracking_uri: str | None) -> RunOutcome:
    with Session(engine, expire_on_commit=False) as session:
        run = session.get_one(MonitorRun, run_id)
        monitor = session.get_one(Monitor, run.monitor_id)
        model = session.get_one(RegisteredModel, run.model_id)
        settings = monitor.settings
        scope = judged_scope(session, model.id, settings.model_version, run.window_end)  # type: ignore[arg-type]
        reference = reference_for(session=session, model=model, version=scope.version)
        config = drift_config(settings.drift)
        started = time.perf_counter()
        window = window_for(settings, run.window_end)
        table = load_window(session.connection(), model.id, model.data_schema, window, scope)  # type: ignore[arg-type]
    loaded = time.perf_counter()
    version, reference_id = scope.version, reference.id
    assert reference_id is not None
    if table.num_rows < settings.min_rows:
        return RunOutcome(version, reference_id, table.num_rows, loaded - started, 0.0, None, None)
    feature_profile = ReferenceProfile.from_json(reference.feature_profile)
    output_profile = ReferenceProfile.from_json(reference.output_profile)
    features = detect_drift(feature_profile, frame_for(table, feature_profile), config)
    outputs = detect_drift(output_profile, frame_for(table, output_profile), config)
    multivariate = evaluate_multivariate(reference, settings.quality, table)
    with Session(engine) as session:
        quality = evaluate_quality(
            session.connection(),
            monitor_id=monitor.id,  # type: ignore[arg-type]
            window_end=run.window_end,
            reference=reference,
            schema=model.data_schema,
            settings=settings.quality,
            table=table,
        )
    computed = time.perf_counter() - loaded
    with Session(engine) as session:
        report = (
            render_report(session, reference, model.data_schema, table)
            if settings.store_report
            else None
        )
        attribution = explain_window(
            session, reference, settings, model.data_schema, table, tracking_uri, scope.version
        )
    return RunOutcome(
        version,
        reference_id,
        table.num_rows,
        loaded - started,
        computed,
        features,
        outputs,
        report,
        attribution,
        quality,
        multivariate,
    )


def fail_run(engine: Engine, run_id: int, error: str) -> MonitorRun:
    """Mark a running run failed and emit `run.failed`, once (a finished run is left alone)."""
    with Session(engine, expire_on_commit=False) as session:
        run = session.get_one(MonitorRun, run_id, with_for_update=True)
        if run.status != RunStatus.RUNNING:
            return run
        model = session.get_one(RegisteredModel, run.model_id)
        monitor = session.get_one(Monitor, run.monitor_id)
        run.status = RunStatus.FAILED
        run.error = error
        run.finished_at = utc_now()
        session.add(run)
        record_event(
            session,
            type=EventType.RUN_FAILED,
            severity=Severity.ERROR,
            model=model,
            monitor_id=monitor.id,
            dedup_key=f"{model.name}/{monitor.name}/run-failed",
            data={"monitor": monitor.name, "run_id": run.id, "error": error},
        )
        session.commit()
        return run


def sweep_orphaned_runs(engine: Engine, *, stale_after: timedelta, timeout: timedelta) -> int:
    """Fail runs whose process stopped beating, or that ran past the timeout; returns how many."""
    now = utc_now()
    with Session(engine) as session:
        running = session.exec(
            select(MonitorRun).where(MonitorRun.status == RunStatus.RUNNING)
        ).all()
        doomed = [
            (run.id, reason)
            for run in running
            if (reason := _orphan_reason(run, now, stale_after, timeout)) is not None
        ]
    for run_id, reason in doomed:
        fail_run(engine, run_id, reason)  # type: ignore[arg-type]
    return len(doomed)


def _orphan_reason(
    run: MonitorRun, now: datetime, stale_after: timedelta, timeout: timedelta
) -> str | None:
    if now - run.heartbeat_at > stale_after:
        return (
            f"interrupted: the process running it stopped (last heartbeat "
            f"{run.heartbeat_at.isoformat()})"
        )
    if now - run.started_at > timeout:
        return f"timed out after {int(timeout.total_seconds())} s"
    return None
