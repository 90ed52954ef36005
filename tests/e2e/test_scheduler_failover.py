"""Two `monitor scheduler` processes on one PostgreSQL: each tick runs once, and killing the
active one hands over to the other, also when the runs execute on `monitor worker`s."""

import itertools
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from monitor.entities.monitor import MonitorCreate
from monitor.entities.registered_model import RegisteredModelCreate
from monitor.entities.run import MonitorRun, RunStatus, RunTrigger
from monitor.services import models, monitors
from monitor.store.engine import make_engine
from tests.e2e.server import clean_environment, monitor_command
from tests.e2e.workers import Worker, task_engine, workers
from tests.factories import drift_model_payload

pytestmark = pytest.mark.postgres

__all__ = ["task_engine", "workers"]  # fixtures

TICK_SECONDS = 1
HANDOVER_LIMIT_SECONDS = 30
STARTUP_WITH_WORKERS_SECONDS = 120


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


@pytest.fixture
def ticking_monitor(engine: Engine) -> int:
    with Session(engine) as session:
        model = models.register_model(
            session=session, model_in=RegisteredModelCreate(**drift_model_payload())
        )
        monitor = monitors.create_monitor(
            session=session,
            model=model,
            monitor_in=MonitorCreate(
                schedule={"every": f"{TICK_SECONDS}s"}, window={"duration": "1h"}
            ),
        )
        assert monitor.id is not None
        return monitor.id


def _start(
    url: str, workdir: Path, name: str, extra: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    env = clean_environment(
        {
            "MONITOR_DATABASE_URL": url,
            "MONITOR_SCHEDULER_POLL_SECONDS": "1",
            "MONITOR_SCHEDULER_SYNC_SECONDS": "1",
            "MONITOR_RUN_STALE_SECONDS": "4",
            **(extra or {}),
        }
    )
    log = (workdir / f"{name}.log").open("wb")
    return subprocess.Popen(
        monitor_command("scheduler"), cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT
    )


def _stop_all(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture
def schedulers(postgres_url: str, tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    processes = [_start(postgres_url, tmp_path, f"scheduler-{i}") for i in range(2)]
    yield processes
    _stop_all(processes)


@pytest.fixture
def schedulers_with_workers(
    postgres_url: str, tmp_path: Path, task_engine: dict[str, str], workers: list[Worker]
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Two schedulers that send the runs through the broker to two workers."""
    workers += [
        Worker(tmp_path, f"worker-{i}", {"MONITOR_DATABASE_URL": postgres_url, **task_engine})
        for i in range(2)
    ]
    for worker in workers:
        worker.wait_ready()
    processes = [_start(postgres_url, tmp_path, f"scheduler-{i}", task_engine) for i in range(2)]
    yield processes
    _stop_all(processes)


def _scheduled(engine: Engine) -> list[MonitorRun]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(MonitorRun)
                .where(MonitorRun.trigger == RunTrigger.SCHEDULE)
                .order_by(col(MonitorRun.window_end))
            )
        )


def _scheduled_ends(engine: Engine) -> list[datetime]:
    return [run.window_end for run in _scheduled(engine)]


def _wait_for_runs(engine: Engine, count: int, timeout: float) -> list[datetime]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ends = _scheduled_ends(engine)
        if len(ends) >= count:
            return ends
        time.sleep(0.25)
    raise AssertionError(f"fewer than {count} scheduled runs after {timeout} s")


def _leader(tmp_path: Path, processes: list[subprocess.Popen[bytes]]) -> int:
    for index in range(len(processes)):
        if "now the active scheduler" in (tmp_path / f"scheduler-{index}.log").read_text():
            return index
    raise AssertionError("no scheduler took the lead")


def test_two_schedulers_run_each_tick_once(
    engine: Engine, ticking_monitor: int, schedulers: list[subprocess.Popen[bytes]]
) -> None:
    ends = _wait_for_runs(engine, 8, timeout=60)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(ends)]
    assert min(gaps) > TICK_SECONDS / 2, f"a tick ran twice: gaps {gaps}"


def test_killing_the_active_scheduler_hands_over_within_30_seconds(
    engine: Engine,
    ticking_monitor: int,
    schedulers: list[subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    before = len(_wait_for_runs(engine, 3, timeout=60))
    leader = _leader(tmp_path, schedulers)
    schedulers[leader].send_signal(signal.SIGKILL)
    schedulers[leader].wait(timeout=10)
    killed_at = time.monotonic()
    _wait_for_runs(engine, before + 2, timeout=HANDOVER_LIMIT_SECONDS)
    handover = time.monotonic() - killed_at
    assert handover < HANDOVER_LIMIT_SECONDS
    standby_log = (tmp_path / f"scheduler-{1 - leader}.log").read_text()
    assert "now the active scheduler" in standby_log


def test_with_workers_attached_the_standby_takes_over_and_each_tick_is_sent_once(
    engine: Engine,
    ticking_monitor: int,
    schedulers_with_workers: list[subprocess.Popen[bytes]],
    workers: list[Worker],
    tmp_path: Path,
) -> None:
    # Four processes start at once on a busy CI machine: allow them longer than the test above.
    before = len(_wait_for_runs(engine, 3, timeout=STARTUP_WITH_WORKERS_SECONDS))
    leader = _leader(tmp_path, schedulers_with_workers)
    schedulers_with_workers[leader].send_signal(signal.SIGKILL)
    schedulers_with_workers[leader].wait(timeout=10)
    killed_at = time.monotonic()
    _wait_for_runs(engine, before + 3, timeout=HANDOVER_LIMIT_SECONDS)
    assert time.monotonic() - killed_at < HANDOVER_LIMIT_SECONDS

    ends = _scheduled_ends(engine)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(ends)]
    # A run's window ends when its tick executes, which a loaded machine delays by up to about
    # half a tick; a tick run twice shows as two runs a few milliseconds apart.
    assert min(gaps) > TICK_SECONDS / 4, f"a tick ran twice: gaps {gaps}"
    # The monitor has no reference, so each run ends failed, saying so: executed all the same.
    executed = {
        run.id
        for run in _scheduled(engine)
        if run.status == RunStatus.FAILED and (run.error or "").startswith("NotFound")
    }
    assert len(executed) >= before, "the workers did not execute the runs"
    received = Counter(
        int(line.rsplit("run task for run ", 1)[1].split()[0])
        for worker in workers
        for line in worker.log().splitlines()
        if "run task for run " in line
    )
    assert executed <= set(received)
    assert max(received.values()) == 1, f"a run was sent twice: {received}"
