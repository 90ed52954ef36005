"""What the scheduler runs. Monitor ticks are stored in the job store by reference
(`module:function` plus the database URL and monitor id), so they survive restarts."""

import logging
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, Engine, or_, update
from sqlmodel import Session, col, select

from monitor.entities.monitor import Monitor
from monitor.entities.run import MonitorRun, RunStatus, RunTrigger
from monitor.runs.runner import start_run, sweep_orphaned_runs
from monitor.scheduling.ticks import latest_tick, ticks_between
from monitor.settings import get_settings
from monitor.store.engine import make_engine
from monitor.store.types import utc_now
from monitor.tasks.dispatch import DispatchFailed, InProcessDispatcher
from monitor.windows.compaction import compact_all

if TYPE_CHECKING:
    from monitor.tasks.dispatch import TaskDispatcher

log = logging.getLogger(__name__)


@lru_cache(maxsize=8)
def engine_for(database_url: str) -> Engine:
    return make_engine(database_url)


class _Store:
    """The store this process schedules for, and where its work executes. Persistent jobs name
    only the monitor, so the job table never holds database credentials."""

    url: str | None = None
    dispatcher: "TaskDispatcher | None" = None

    @classmethod
    def engine(cls) -> Engine:
        if cls.url is None:
            raise RuntimeError("the scheduler has not bound a database yet")
        return engine_for(cls.url)

    @classmethod
    def tasks(cls) -> "TaskDispatcher":
        if cls.dispatcher is None:
            raise RuntimeError("the scheduler has not bound a task dispatcher yet")
        return cls.dispatcher


def bind(
    database_url: str,
    tracking_uri: str | None = None,
    dispatcher: "TaskDispatcher | None" = None,
) -> None:
    """Schedule for `database_url`; work executes through `dispatcher`, by default here, with
    `tracking_uri` the MLflow store of models SHAP explains."""
    _Store.url = database_url
    _Store.dispatcher = dispatcher or InProcessDispatcher(
        engine_for(database_url), settings=get_settings(), tracking_uri=tracking_uri
    )


def run_monitor_tick(monitor_id: int) -> None:
    """One scheduled tick: a run over the window ending at the tick, queued and handed over at
    once. Ticks missed while no scheduler was active were coalesced into this one by
    APScheduler; the run records how many. A tick another scheduler already enqueued (a
    fail-over) is not enqueued again."""
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
                status=RunStatus.QUEUED,
            )
    if run is None:
        log.info("monitor %s: the tick of %s is already enqueued", monitor_id, tick.isoformat())
        return
    if missed:
        log.info("monitor %s: %d missed ticks coalesced into run %s", monitor_id, missed, run.id)
    hand_over(engine, run.id)  # type: ignore[arg-type]


def hand_over(engine: Engine, run_id: int) -> bool:
    """Mark a queued run dispatched (one conditional UPDATE, so of two schedulers racing only one
    sends it) and give it to the dispatcher; False where it was not handed over."""
    dispatcher = _Store.tasks()
    now = utc_now()
    with engine.begin() as connection:
        marked = connection.execute(
            update(MonitorRun)
            .where(col(MonitorRun.id) == run_id)
            .where(col(MonitorRun.status) == RunStatus.QUEUED)
            .where(_undispatched(now - dispatcher.redispatch_after))
            .values(dispatched_at=now)
        )
    if marked.rowcount != 1:
        return False
    try:
        dispatcher.run(run_id)
    except DispatchFailed:
        log.exception("run %s stays queued; it is handed over again on the next pass", run_id)
        with engine.begin() as connection:
            connection.execute(
                update(MonitorRun).where(col(MonitorRun.id) == run_id).values(dispatched_at=None)
            )
        return False
    return True


def _undispatched(before: datetime) -> ColumnElement[bool]:
    return or_(col(MonitorRun.dispatched_at).is_(None), col(MonitorRun.dispatched_at) < before)


def drain_queue() -> int:
    """Hand over runs queued through the API ("run now", backfill), oldest first, and scheduled
    runs whose hand-over failed; returns how many."""
    engine = _Store.engine()
    done = 0
    while True:
        before = utc_now() - _Store.tasks().redispatch_after
        with Session(engine) as session:
            run_id = session.exec(
                select(MonitorRun.id)
                .where(MonitorRun.status == RunStatus.QUEUED)
                .where(_undispatched(before))
                .order_by(col(MonitorRun.id))
                .limit(1)
            ).first()
        if run_id is None or not hand_over(engine, run_id):
            return done
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
