"""The scheduler process: waits to become the one active scheduler, then keeps APScheduler's
jobs in step with the monitors table and runs them, until it loses the lock or is stopped."""

import logging
import threading
from datetime import UTC
from typing import Any

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine
from sqlmodel import Session, select

from monitor.entities.monitor import Monitor
from monitor.scheduling import jobs
from monitor.scheduling.leadership import Leadership, leadership_for
from monitor.scheduling.ticks import trigger_for
from monitor.services.kserve_events import expire_unpaired
from monitor.services.retention import delete_expired
from monitor.settings import Settings
from monitor.store.types import utc_now
from monitor.tasks.dispatch import dispatcher_for
from monitor.tasks.work import Housekeeping
from monitor.versions.reconcile import reconcile_champions

log = logging.getLogger(__name__)

PERSISTENT = "default"  # monitor ticks: in the database, so next run times survive restarts
INTERNAL = "internal"  # housekeeping: recreated by every leader
JOB_PREFIX = "monitor-"


RETENTION_SECONDS = 3600.0
KSERVE_EXPIRY_SECONDS = 60.0


def apply_retention(engine: Engine, settings: Settings) -> None:
    delete_expired(engine=engine, settings=settings, now=utc_now())


def expire_kserve_halves(engine: Engine, settings: Settings) -> None:
    expire_unpaired(engine=engine, settings=settings, now=utc_now())


class MonitorScheduler:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.database_url = settings.resolved_database_url
        self.leadership: Leadership = leadership_for(self.database_url, settings.data_dir)
        self.is_leader = threading.Event()

    def run(self, stop: threading.Event) -> None:
        """Block until `stop` is set, leading whenever the lock can be had."""
        while not stop.is_set():
            try:
                acquired = self.leadership.try_acquire()
            except Exception:
                log.exception("could not contend for the scheduler lock; retrying")
                acquired = False
            if acquired:
                log.info("this process is now the active scheduler")
                try:
                    self._lead(stop)
                except Exception:
                    log.exception("the scheduler failed; stepping down and trying again")
                    stop.wait(self.settings.scheduler_poll_seconds)
                finally:
                    self.is_leader.clear()
                    self.leadership.release()
                    log.info("stepped down as the active scheduler")
            else:
                stop.wait(self.settings.scheduler_poll_seconds)

    def _lead(self, stop: threading.Event) -> None:
        engine = jobs.engine_for(self.database_url)
        scheduler = BackgroundScheduler(
            jobstores={
                PERSISTENT: SQLAlchemyJobStore(engine=engine),
                INTERNAL: MemoryJobStore(),
            },
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        settings = self.settings
        tasks = dispatcher_for(engine, settings)
        jobs.bind(self.database_url, dispatcher=tasks)
        jobs.sweep(settings.run_stale_seconds, settings.run_timeout_seconds)
        housekeeping: list[tuple[Any, float, tuple[Any, ...]]] = [
            (self.sync_jobs, settings.scheduler_sync_seconds, (scheduler,)),
            (jobs.drain_queue, 1.0, ()),
            (jobs.compact, 60.0, ()),
            (
                jobs.sweep,
                settings.run_stale_seconds / 2,
                (settings.run_stale_seconds, settings.run_timeout_seconds),
            ),
        ]
        handed_out = [
            (Housekeeping.DELIVERIES, settings.delivery_poll_seconds),
            (Housekeeping.RETRAINING, settings.retraining_poll_seconds),
            (Housekeeping.ROLLOUTS, settings.rollout_tick_seconds),
            (Housekeeping.QUALITY, settings.quality_refresh_seconds),
        ]
        housekeeping += [(tasks.housekeeping, every, (task, every)) for task, every in handed_out]
        housekeeping += [
            (reconcile_champions, settings.champion_sync_seconds, (engine, settings)),
            (apply_retention, RETENTION_SECONDS, (engine, settings)),
            (expire_kserve_halves, KSERVE_EXPIRY_SECONDS, (engine, settings)),
        ]
        for function, seconds, args in housekeeping:
            scheduler.add_job(function, "interval", seconds=seconds, args=args, jobstore=INTERNAL)
        scheduler.start()
        # After start: only a started scheduler sees the jobs already in the job store (and so
        # keeps their overdue next run time instead of replacing them).
        self.sync_jobs(scheduler)
        self.is_leader.set()
        try:
            while not stop.wait(settings.scheduler_poll_seconds):
                if not self.leadership.still_held():
                    return
        finally:
            scheduler.shutdown(wait=False)

    def sync_jobs(self, scheduler: BackgroundScheduler) -> None:
        """Make the persistent jobs match the enabled monitors (added, changed, removed)."""
        engine = jobs.engine_for(self.database_url)
        with Session(engine) as session:
            monitors = session.exec(select(Monitor).where(Monitor.enabled)).all()
        wanted = {f"{JOB_PREFIX}{m.id}": m for m in monitors}
        for job in scheduler.get_jobs(jobstore=PERSISTENT):
            if job.id not in wanted:
                job.remove()
        for job_id, monitor in wanted.items():
            version = monitor.updated_at.isoformat()
            job = scheduler.get_job(job_id, jobstore=PERSISTENT)
            if job is not None and job.name == version:
                continue
            scheduler.add_job(
                jobs.run_monitor_tick,
                trigger=trigger_for(monitor.settings.schedule),
                args=(monitor.id,),
                id=job_id,
                name=version,
                jobstore=PERSISTENT,
                replace_existing=True,
            )


def start_in_background(settings: Settings) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    service = MonitorScheduler(settings)
    thread = threading.Thread(target=service.run, args=(stop,), name="scheduler", daemon=True)
    thread.start()
    return thread, stop
