"""The scheduler's retraining job: reconcile runs a stopped control plane left behind, turn new
events and due schedules into queued runs, and start queued runs on worker threads."""

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from monitor.entities.retraining import RetrainingRun, RetrainStatus
from monitor.retraining.executor import execute_run
from monitor.retraining.lifecycle import sweep
from monitor.retraining.trigger import consume_events, request_scheduled
from monitor.settings import Settings
from monitor.store.types import utc_now

log = logging.getLogger(__name__)


class _Workers:
    """Runs this process is executing. Daemon threads: a stopping process does not wait for a
    pipeline; the run is reconciled as interrupted (and the pipeline dies with the process)."""

    lock = threading.Lock()
    active: set[int] = set()

    @classmethod
    def start(cls, engine: Engine, settings: Settings, run_id: int) -> bool:
        with cls.lock:
            if run_id in cls.active or len(cls.active) >= settings.retraining_workers:
                return False
            cls.active.add(run_id)

        def work() -> None:
            try:
                execute_run(engine, settings, run_id)
            except Exception:
                log.exception("retraining run %s crashed its worker", run_id)
            finally:
                with cls.lock:
                    cls.active.discard(run_id)

        threading.Thread(target=work, name=f"retraining-{run_id}", daemon=True).start()
        return True


def start_queued(engine: Engine, settings: Settings) -> int:
    """Start queued runs, oldest first, up to the worker limit."""
    with Session(engine) as session:
        queued = session.exec(
            select(RetrainingRun.id)
            .where(RetrainingRun.status == RetrainStatus.QUEUED)
            .order_by(col(RetrainingRun.id))
        ).all()
    return sum(_Workers.start(engine, settings, run_id) for run_id in queued if run_id is not None)


def retraining_tick(engine: Engine, settings: Settings) -> None:
    """One pass of the retraining job (a scheduler housekeeping entry). Each step runs even if
    another fails; failures are logged."""
    now = utc_now()
    steps: list[tuple[str, Callable[[], object]]] = [
        (
            "reconcile",
            lambda: sweep(
                engine,
                now=now,
                stale_after=timedelta(seconds=settings.retraining_stale_seconds),
            ),
        ),
        (
            "read events",
            lambda: consume_events(
                engine,
                now=now,
                grace=timedelta(seconds=settings.retraining_event_grace_seconds),
            ),
        ),
        ("schedules", lambda: request_scheduled(engine, now=now)),
        ("start queued runs", lambda: start_queued(engine, settings)),
    ]
    for name, step in steps:
        try:
            step()
        except Exception:
            log.exception("retraining job: %s failed", name)
