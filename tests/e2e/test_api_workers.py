"""`monitor serve --workers N`: the API in N processes on one port, the scheduler elected once
across them, a survivor taking over when the leading worker dies; refused on SQLite."""

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli import run_monitor
from tests.e2e.server import MonitorServer

HANDOVER_LIMIT_S = 30.0
LEADING = "this process is now the active scheduler"


def _lines(server: MonitorServer) -> list[dict[str, Any]]:
    text = server.log_path.read_text(errors="replace")
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def _processes(server: MonitorServer, message: str) -> list[int]:
    return [line["process"] for line in _lines(server) if line["message"].startswith(message)]


def _wait_for(server: MonitorServer, message: str, count: int) -> list[int]:
    deadline = time.monotonic() + HANDOVER_LIMIT_S
    while len(found := _processes(server, message)) < count:
        assert time.monotonic() < deadline, f"no {count} x {message!r}:\n{server.log_tail()}"
        time.sleep(0.2)
    return found


@pytest.mark.postgres
@pytest.mark.slow
def test_api_workers_elect_one_scheduler_and_a_survivor_takes_over(
    postgres_url: str, tmp_path: Path
) -> None:
    settings = {
        "MONITOR_DATABASE_URL": postgres_url,
        "MONITOR_LOG_FORMAT": "json",
        "MONITOR_SCHEDULER_POLL_SECONDS": "0.5",
    }
    server = MonitorServer(tmp_path, settings, workers=2)
    server.start()
    try:
        workers = set(_wait_for(server, "Started server process", 2))
        [leader] = _wait_for(server, LEADING, 1)
        time.sleep(2.0)  # four polls of the standby: it must not lead as well
        assert _processes(server, LEADING) == [leader]
        assert leader in workers and len(workers) == 2
        os.kill(leader, signal.SIGKILL)
        successor = _wait_for(server, LEADING, 2)[-1]
        assert successor != leader
        assert httpx.get(f"{server.base_url}/readyz", timeout=5).status_code == 200
    finally:
        server.stop()


def test_more_than_one_worker_on_sqlite_is_refused_with_the_fix(tmp_path: Path) -> None:
    refused = run_monitor("serve", "--workers", "2", cwd=tmp_path, check=False)
    assert refused.returncode == 2
    assert "--workers 2 needs PostgreSQL" in refused.stderr
    assert "MONITOR_DATABASE_URL=postgresql" in refused.stderr
    assert "--workers 1" in refused.stderr
