"""What a task does, wherever it executes: claim a run once and execute it, or make one
housekeeping pass. Both the in-process dispatcher and the Celery worker call these."""

import logging
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from enum import StrEnum

import psycopg
from sqlalchemy import Engine, make_url, or_, update
from sqlmodel import Session, col

from monitor.entities.run import MonitorRun, RunStatus
from monitor.notifications.dispatcher import dispatch
from monitor.retraining.jobs import retraining_tick
from monitor.rollouts.controller import rollout_tick
from monitor.runs.relabelling import refresh_stale_quality
from monitor.runs.runner import HEARTBEAT_SECONDS, execute_run
from monitor.settings import Settings
from monitor.store.types import utc_now

log = logging.getLogger(__name__)

# A running run whose heartbeat missed two beats belongs to a dead worker: a redelivered task may
# take it over. Well inside `run_stale_seconds` (30 s by default), so the sweeper, which would
# fail the run, does not get there first.
TAKEOVER_AFTER = timedelta(seconds=2 * HEARTBEAT_SECONDS + 1)


class Housekeeping(StrEnum):
    """The periodic passes the scheduler hands out besides monitor runs."""

    DELIVERIES = "deliveries"
    RETRAINING = "retraining"
    ROLLOUTS = "rollouts"
    QUALITY = "quality"


PASSES: dict[Housekeeping, Callable[[Engine, Settings], object]] = {
    Housekeeping.DELIVERIES: dispatch,
    Housekeeping.RETRAINING: retraining_tick,
    Housekeeping.ROLLOUTS: rollout_tick,
    Housekeeping.QUALITY: lambda engine, _settings: refresh_stale_quality(engine),
}


class RunClaim(StrEnum):
    CLAIMED = "claimed"  # this task executes the run
    BUSY = "busy"  # a live process executes it; ask again later
    SETTLED = "settled"  # finished, failed or gone: nothing to do


def claim_run(engine: Engine, run_id: int, *, takeover_after: timedelta | None = None) -> RunClaim:
    """Move a queued run to running in one conditional UPDATE, so it executes once however many
    tasks name it. With `takeover_after`, a running run whose heartbeat is older than that (its
    worker died mid-run and the broker redelivered the task) is claimed too."""
    now = utc_now()
    claimable = col(MonitorRun.status) == RunStatus.QUEUED
    if takeover_after is not None:
        stale = (col(MonitorRun.status) == RunStatus.RUNNING) & (
            col(MonitorRun.heartbeat_at) < now - takeover_after
        )
        claimable = or_(claimable, stale)
    with engine.begin() as connection:
        claimed = connection.execute(
            update(MonitorRun)
            .where(col(MonitorRun.id) == run_id)
            .where(claimable)
            .values(status=RunStatus.RUNNING, started_at=now, heartbeat_at=now)
        )
    if claimed.rowcount == 1:
        return RunClaim.CLAIMED
    with Session(engine) as session:
        run = session.get(MonitorRun, run_id)
    running = run is not None and run.status == RunStatus.RUNNING
    return RunClaim.BUSY if running else RunClaim.SETTLED


def execute_claimed(
    engine: Engine, run_id: int, tracking_uri: str | None, *, takeover_after: timedelta | None
) -> RunClaim:
    """Claim the run and, if this caller won it, execute it; says how the claim went."""
    claim = claim_run(engine, run_id, takeover_after=takeover_after)
    if claim is RunClaim.CLAIMED:
        execute_run(engine, run_id, tracking_uri)
    return claim


@contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[bool]:
    """Yield whether this process alone holds the pass `name` (a PostgreSQL advisory lock, per
    database), so two workers never run the same housekeeping pass at once. Other stores are
    single-host and yield True."""
    url = make_url(engine.url)
    if url.get_backend_name() != "postgresql":
        yield True
        return
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    key = zlib.crc32(f"monitor.housekeeping.{name}".encode())
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as connection:
        row = connection.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        yield bool(row and row[0])  # closing the connection releases the lock


def housekeep(engine: Engine, settings: Settings, task: Housekeeping) -> None:
    PASSES[task](engine, settings)
