"""Executing one monitor run: read the window batch by batch into mergeable summaries (memory
bounded whatever the window's size), run the detectors on them against the stored profiles, then
persist the run, its results, the drift state and its events in one transaction."""

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from detectors import ReferenceProfile, judge_windows
from monitor.entities.event import EventType, Severity
from monitor.entities.monitor import Monitor, MonitorBase
from monitor.entities.reference import ReferenceDataset
from monitor.entities.registered_model import ModelSchema, RegisteredModel
from monitor.entities.run import ONE_RUN_PER_WINDOW, MonitorRun, RunStatus, RunTrigger
from monitor.logs import log_context
from monitor.runs.attribution import explain_window
from monitor.runs.outcome import RunOutcome
from monitor.runs.persist import persist_outcome
from monitor.runs.quality import (
    evaluate_multivariate,
    evaluate_quality,
    label_revision,
    multivariate_profile,
    wants_quality,
)
from monitor.runs.report import REPORT_SAMPLE_ROWS, render_report
from monitor.runs.window_digest import DigestPlan, WindowDigest
from monitor.runs.window_frames import drift_config, window_for
from monitor.services.events import record_event
from monitor.services.references import reference_for
from monitor.services.runs import runs_holding_windows
from monitor.store.types import utc_now
from monitor.versions.champion import judged_scope
from monitor.windows.reader import VersionScope, Window, read_window

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0


def start_run(
    session: Session,
    *,
    monitor: Monitor,
    window_end: datetime,
    trigger: RunTrigger,
    missed_ticks: int = 0,
    status: RunStatus = RunStatus.RUNNING,
) -> MonitorRun | None:
    """Record a run as running, or queued for a task to claim (committed), so it is visible,
    and recoverable, at once. None where a scheduled or backfilled run already holds this
    window: a scheduler that took over fired the same tick, or the range was backfilled before."""
    window = window_for(monitor.settings, window_end)
    run = MonitorRun(
        monitor_id=monitor.id,  # type: ignore[arg-type]
        model_id=monitor.model_id,
        status=status,
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
    with log_context(run_id=run_id):
        done = _execute(engine, run_id, tracking_uri)
        log.info(
            "monitor run %s %s: %d rows, %d of %d columns drifted",
            run_id,
            done.status,
            done.rows,
            done.drifted_features,
            done.tested_features,
            extra={"model_id": done.model_id, "monitor_id": done.monitor_id},
        )
    return done


def _execute(engine: Engine, run_id: int, tracking_uri: str | None) -> MonitorRun:
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
        plan = _digest_plan(reference, settings, model.data_schema)
        connection = session.connection()
        # Read before the labels: a label batch landing meanwhile bumps past it (stays stale).
        revision = label_revision(connection, monitor.id, run.window_end)  # type: ignore[arg-type]
        started = time.perf_counter()
        window = window_for(settings, run.window_end)
        digest, load_seconds = _read_window(connection, model, window, scope, plan)
    computed = time.perf_counter() - started - load_seconds
    version, reference_id = scope.version, reference.id
    assert reference_id is not None
    if digest.n_rows < settings.min_rows:
        return RunOutcome(version, reference_id, digest.n_rows, load_seconds, 0.0, None, None)
    judging = time.perf_counter()
    features = judge_windows(plan.features, digest.features, plan.config)
    outputs = judge_windows(plan.outputs, digest.outputs, plan.config)
    multivariate = (
        evaluate_multivariate(plan.multivariate, settings.quality, digest.multivariate)
        if plan.multivariate is not None
        else None
    )
    quality = None
    if digest.quality is not None:
        quality = evaluate_quality(
            reference=reference, settings=settings.quality, rows=digest.quality, revision=revision
        )
    computed += time.perf_counter() - judging
    with Session(engine) as session:
        sample = digest.sampled()
        report = (
            render_report(session, reference, model.data_schema, sample)
            if settings.store_report
            else None
        )
        attribution = explain_window(
            session, reference, settings, model.data_schema, sample, tracking_uri, scope.version
        )
    return RunOutcome(
        version,
        reference_id,
        digest.n_rows,
        load_seconds,
        computed,
        features,
        outputs,
        report,
        attribution,
        quality,
        multivariate,
    )


def _digest_plan(
    reference: ReferenceDataset, settings: MonitorBase, schema: ModelSchema
) -> DigestPlan:
    sample_rows = REPORT_SAMPLE_ROWS if settings.store_report else 0
    if settings.shap_sample_size and settings.explain_model_uri is not None:
        sample_rows = max(sample_rows, settings.shap_sample_size)
    return DigestPlan(
        schema=schema,
        features=ReferenceProfile.from_json(reference.feature_profile),
        outputs=ReferenceProfile.from_json(reference.output_profile),
        config=drift_config(settings.drift),
        multivariate=multivariate_profile(reference, settings.quality),
        quality=wants_quality(reference, settings.quality),
        sample_rows=sample_rows,
    )


def _read_window(
    connection: Connection,
    model: RegisteredModel,
    window: Window,
    scope: VersionScope,
    plan: DigestPlan,
) -> tuple[WindowDigest, float]:
    """The window's digest, read batch by batch, and the seconds spent reading (the rest of the
    time went into summarising)."""
    digest = WindowDigest(plan)
    model_id: int = model.id  # type: ignore[assignment]
    batches = read_window(connection, model_id, model.data_schema, window, scope, plan.columns)
    reading = 0.0
    while True:
        started = time.perf_counter()
        batch = next(batches, None)
        reading += time.perf_counter() - started
        if batch is None:
            return digest, reading
        digest.add(connection, model_id, batch)


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
