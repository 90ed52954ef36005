"""What the scheduler runs. Monitor ticks are stored in the job store by reference
(`module:function` plus the database URL and monitor id), so they survive restarts."""

import logging
from datetime import timedelta
from functools import lru_cache

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from monitor.entities.monitor import Monitor
from monitor.entities.run import MonitorRun, RunStatus, RunTrigger
from monitor.runs.runner import execute_run, start_run, sweep_orphaned_runs
from monitor.scheduling.ticks import latest_tick, ticks_between
from monitor.store.engine import make_engine
from monitor.store.types import utc_now
from monitor.windows.compaction import compact_all

log = logging.getLogger(__name__)


@lru_cache(maxsize=8)
def engine_for(database_url: str) -> Engine:
    return make_engine(database_url)


class _Store:
    """The store this process schedules for. Persistent jobs name only the monitor, so the job
    table never holds database credentials."""

    url: str | None = None
    tracking_uri: str | None = None  # MLflow, for monitors that explain a model with SHAP

    @classmethod
    def engine(cls) -> Engine:
        if cls.url is None:
            raise RuntimeError("the scheduler has not bound a database yet")
        return engine_for(cls.url)


def bind(database_url: str, tracking_uri: str | None = None) -> None:
    _Store.url = database_url
    _Store.tracking_uri = tracking_uri


def run_monitor_tick(monitor_id: int) -> None:
    """One scheduled tick: a run over the window ending at the tick. Ticks missed while no
    scheduler was active were coalesced into this one by APScheduler; the run records how many.
    A tick another scheduler already ran (a fail-over) is not run again."""
    engine = _Store.engine()
    with Session(engine, expire_on_commit=False) as session:
        monitor = session.get(Monitor, monitor_id)
        if monitor is None or not monitor.enabled:
            return
        tick = latest_tick(monitor.settings.schedule, utc_now())
        last_end = session.exec(
            select(MonitorRun.window_end)
            .where(MonitorRun.monitor_id == monitor_id)
            .where(MonitorRun.trigger == RunTrigger.SCHEDULE)
            .order_by(col(MonitorRun.window_end).desc())
            .limit(1)
        ).first()
        missed = 0
        if last_end is not None:
            missed = max(ticks_between(monitor.settings.schedule, last_end, tick) - 1, 0)
        run = None
        if last_end is None or tick > last_end:
            run = start_run(
                session,
                monitor=monitor,
                window_end=tick,
                trigger=RunTrigger.SCHEDULE,
                missed_ticks=missed,
            )
    if run is None:
        log.info("monitor %s: the tick of %s is already enqueued", monitor_id, tick.isoformat())
        return
    if missed:
        log.info("monitor %s: %d missed ticks coalesced into run %s", monitor_id, missed, run.id)
    execute_run(engine, run.id, _Store.tracking_uri)  # type: ignore[arg-type]


def claim_queued(engine: Engine, run_id: int) -> bool:
    """Move a queued run to running, in one conditional UPDATE; False where another scheduler
    (one that took over while this one still ran) claimed it first."""
    now = utc_now()
    with engine.begin() as connection:
        claimed = connection.execute(
            update(MonitorRun)
            .where(col(MonitorRun.id) == run_id)
            .where(col(MonitorRun.status) == RunStatus.QUEUED)
            .values(status=RunStatus.RUNNING, started_at=now, heartbeat_at=now)
        )
    return claimed.rowcount == 1


def drain_queue() -> int:
    """Execute runs queued through the API ("run now", backfill), oldest first."""
    engine = _Store.engine()
    done = 0
    while True:
        with Session(engine) as session:
            run_id = session.exec(
                select(MonitorRun.id)
                .where(MonitorRun.status == RunStatus.QUEUED)
                .order_by(col(MonitorRun.id))
                .limit(1)
            ).first()
        if run_id is None:
            return done
        if claim_queued(engine, run_id):
            execute_run(engine, run_id, _Store.tracking_uri)
            done += 1


def compact() -> None:
    removed = compact_all(_Store.engine())
    if removed:
        log.info("compaction merged away %d small segments", removed)


def sweep(stale_seconds: float, timeout_seconds: float) -> None:
    swept = sweep_orphaned_runs(
        _Store.engine(),
        stale_after=timedelta(seconds=stale_seconds),
        timeout=timedelta(seconds=timeout_seconds),
    )
    if swept:
        log.warning("marked %d orphaned or timed-out runs as failed", swept)
