"""`monitor worker` processes on the real broker, for whole-system tests: a queue of their own
per test (so parallel sessions on one RabbitMQ never share messages), logs in the test folder."""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from kombu.connection import Connection

from tests.e2e.server import clean_environment, monitor_command

BROKER_URL = os.environ.get("MONITOR_TEST_BROKER", "amqp://guest:guest@127.0.0.1:5672//")
READY_TIMEOUT_S = 60.0
SLOW_WORKER = Path(__file__).with_name("slow_worker.py")


def _broker_reachable(url: str) -> bool:
    host, port = Connection(url).info()["hostname"], Connection(url).info()["port"]
    with suppress(OSError), socket.create_connection((host, int(port)), timeout=3):
        return True
    return False


@pytest.fixture
def task_engine() -> Iterator[dict[str, str]]:
    """The `MONITOR_*` settings that send work to workers: the broker and a fresh queue."""
    if not _broker_reachable(BROKER_URL):
        message = f"the broker at {BROKER_URL} is unreachable"
        if os.environ.get("CI", "").lower() == "true" or os.environ.get("MONITOR_REQUIRE_POSTGRES"):
            pytest.fail(f"{message}; CI requires it", pytrace=False)
        pytest.skip(f"{message}; set MONITOR_TEST_BROKER to run these tests")
    queue = f"monitor-test-{uuid.uuid4().hex[:10]}"
    yield {"MONITOR_TASK_BROKER_URL": BROKER_URL, "MONITOR_TASK_QUEUE": queue}
    with Connection(BROKER_URL) as connection:  # type: ignore[no-untyped-call]
        channel = connection.channel()
        for name in (queue, f"{queue}.housekeeping"):
            with suppress(Exception):
                channel.queue_delete(name)


class Worker:
    """One `monitor worker` process in its own process group (so a kill takes its children)."""

    def __init__(self, workdir: Path, name: str, settings: dict[str, str], slow_s: float = 0):
        self.log_path = workdir / f"{name}.log"
        env = clean_environment(settings)
        command = monitor_command("worker")
        if slow_s:
            env["SLOW_RUN_SECONDS"] = str(slow_s)
            command = [sys.executable, str(SLOW_WORKER)]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if " ready." in self.log():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"the worker did not become ready:\n{self.log()[-3000:]}")

    def kill(self) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[Worker]]:
    """Started workers, stopped at the end of the test; append to it."""
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.kill()  # nothing to finish gracefully at the end of a test
