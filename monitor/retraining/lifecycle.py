"""A retraining run's state changes, each committed with the event it causes: started, finished
(succeeded, failed, timed out, interrupted), the heartbeat while it runs, and the sweep that
reconciles runs a stopped control plane left behind."""

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from monitor.entities.event import EventType, Severity
from monitor.entities.registered_model import RegisteredModel
from monitor.entities.retraining import RetrainingRun, RetrainStatus
from monitor.services.events import record_event
from monitor.store.types import utc_now

log = logging.getLogger(__name__)

_run = RetrainingRun.__table__  # type: ignore[attr-defined]


def record_run_event(
    session: Session,
    run: RetrainingRun,
    type: EventType,
    severity: Severity,
    **data: Any,
) -> None:
    """An event about `run`, in the session's transaction; every one carries the same keys."""
    model = session.get_one(RegisteredModel, run.model_id)
    record_event(
        session,
        type=type,
        severity=severity,
        model=model,
        dedup_key=f"{model.name}/retraining/{run.id}",
        data={
            "run_id": run.id,
            "kind": run.kind,
            "trigger": run.trigger,
            "event_id": run.event_uid,
            "status": run.status,
            **data,
        },
    )


def claim(engine: Engine, run_id: int, timeout: timedelta) -> bool:
    """Move a queued run to running; False when someone else claimed it first."""
    now = utc_now()
    with Session(engine) as session:
        claimed = (
            session.connection()
            .execute(
                update(_run)
                .where(_run.c.id == run_id)
                .where(_run.c.status == RetrainStatus.QUEUED)
                .values(
                    status=RetrainStatus.RUNNING,
                    started_at=now,
                    heartbeat_at=now,
                    deadline_at=now + timeout,
                )
            )
            .rowcount
        )
        if claimed != 1:
            return False
        run = session.get_one(RetrainingRun, run_id)
        record_run_event(session, run, EventType.RETRAIN_STARTED, Severity.INFO)
        session.commit()
    return True


def finish(
    engine: Engine,
    run_id: int,
    status: RetrainStatus,
    *,
    error: str | None = None,
    logs: str | None = None,
    apply: Callable[[Session, RetrainingRun], None] | None = None,
) -> bool:
    """End a running run with `status` and its `retrain.*` event; `apply` adds to the same
    transaction. False, and nothing changed, when the run is no longer running (the sweep
    ended it meanwhile)."""
    with Session(engine, expire_on_commit=False) as session:
        run = session.get(RetrainingRun, run_id, with_for_update=True)
        if run is None or run.status != RetrainStatus.RUNNING:
            log.warning("retraining run %s is no longer running; its %s is dropped", run_id, status)
            return False
        run.status = status
        run.finished_at = utc_now()
        run.heartbeat_at = None
        run.error = error
        if logs is not None:
            run.logs = logs
        if apply is not None:
            apply(session, run)
        session.add(run)
        if status is RetrainStatus.SUCCEEDED:
            record_run_event(
                session,
                run,
                EventType.RETRAIN_SUCCEEDED,
                Severity.INFO,
                registry_model=run.registry_model,
                model_version=run.model_version,
                gate_passed=run.gate_passed,
            )
        else:
            record_run_event(session, run, EventType.RETRAIN_FAILED, Severity.ERROR, error=error)
        session.commit()
        return True


@contextmanager
def heartbeat(engine: Engine, run_id: int, seconds: float) -> Iterator[None]:
    """Keep `heartbeat_at` fresh while the block runs. It stops touching the run once the
    heartbeat is cleared (an HTTP pipeline's callback is awaited) or the run has ended."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(seconds):
            try:
                with engine.begin() as connection:
                    connection.execute(
                        update(_run)
                        .where(_run.c.id == run_id)
                        .where(_run.c.status == RetrainStatus.RUNNING)
                        .where(_run.c.heartbeat_at.is_not(None))
                        .values(heartbeat_at=utc_now())
                    )
            except SQLAlchemyError:
                log.warning("could not record the heartbeat of retraining run %s", run_id)

    thread = threading.Thread(target=beat, name=f"retraining-{run_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=seconds + 1)


def _kill_orphaned_pipeline(run: RetrainingRun) -> str:
    """Kill what is left of the run's pipeline process group, if it ran on this host (the
    direct child already died with its control plane; its own children may not have)."""
    if run.pid is None or run.host != socket.gethostname():
        return ""
    try:
        os.killpg(run.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return ""
    return f"; what was left of its pipeline (process group {run.pid}) was killed"


def _orphan(run: RetrainingRun, now: datetime, stale_after: timedelta) -> tuple[str, str] | None:
    """(status, reason) for a run nobody is working on any more; None while it is alive."""
    if run.heartbeat_at is not None and now - run.heartbeat_at > stale_after:
        return (
            RetrainStatus.INTERRUPTED,
            "interrupted: the control plane stopped while the run was in progress (last "
            f"heartbeat {run.heartbeat_at.isoformat()}); trigger it again",
        )
    if run.heartbeat_at is None and run.deadline_at is not None and now > run.deadline_at:
        return (
            RetrainStatus.TIMED_OUT,
            f"no completion callback arrived before the deadline {run.deadline_at.isoformat()} "
            "(raise the pipeline's timeout if the orchestrator needs longer)",
        )
    return None


def sweep(engine: Engine, *, now: datetime, stale_after: timedelta) -> int:
    """Mark running runs whose control plane stopped `interrupted`, and HTTP runs whose
    callback never came `timed_out`. Returns how many were ended."""
    with Session(engine) as session:
        running = session.exec(
            select(RetrainingRun).where(col(RetrainingRun.status) == RetrainStatus.RUNNING)
        ).all()
    ended = 0
    for run in running:
        verdict = _orphan(run, now, stale_after)
        if verdict is not None and run.id is not None:
            status, reason = verdict
            if status == RetrainStatus.INTERRUPTED:
                reason += _kill_orphaned_pipeline(run)
            if finish(engine, run.id, RetrainStatus(status), error=reason):
                log.warning("retraining run %s: %s", run.id, reason)
                ended += 1
    return ended
