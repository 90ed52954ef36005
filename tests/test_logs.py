"""Operable logs from a real `monitor serve`: a quiet server writes nothing at INFO (the
scheduler's per-job lines are DEBUG), and JSON lines carry the model, monitor and run ids."""

import json
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.server import MonitorServer, bearer
from tests.factories import drift_frame, drift_model_payload, parquet_body

QUIET_S = 3.0
# Every housekeeping job several times a second, so chatter would show within QUIET_S.
BUSY_HOUSEKEEPING = {
    "MONITOR_LOG_FORMAT": "json",
    "MONITOR_SCHEDULER_POLL_SECONDS": "0.2",
    "MONITOR_SCHEDULER_SYNC_SECONDS": "0.2",
    "MONITOR_DELIVERY_POLL_SECONDS": "0.2",
    "MONITOR_RETRAINING_POLL_SECONDS": "0.2",
}
MODEL = "/api/v1/models/scored"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MonitorServer]:
    started = MonitorServer(tmp_path_factory.mktemp("logs"), BUSY_HOUSEKEEPING)
    started.start()
    yield started
    started.stop()


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def test_a_quiet_server_writes_no_housekeeping_lines_at_info(server: MonitorServer) -> None:
    time.sleep(1.0)  # the scheduler's election and first sync
    before = server.log_path.stat().st_size
    time.sleep(QUIET_S)
    with server.log_path.open() as log:
        log.seek(before)
        written = log.read()
    assert written == "", f"a quiet server logged in {QUIET_S} s:\n{written[:2000]}"


def test_json_lines_parse_and_a_run_carries_its_model_monitor_and_run_ids(
    server: MonitorServer,
) -> None:
    admin = bearer(server.create_key("admin"))
    with httpx.Client(base_url=server.base_url, headers=admin, timeout=30) as client:
        assert client.post("/api/v1/models", json=drift_model_payload()).status_code == 201
        reference = client.post(
            f"{MODEL}/reference",
            content=parquet_body(drift_frame(300, seed=1)),
            headers={"content-type": "application/x-parquet"},
        )
        assert reference.status_code == 201, reference.text
        assert client.post(f"{MODEL}/monitors", json={"name": "drift"}).status_code == 201
        [run_id] = client.post(f"{MODEL}/monitors/drift/runs").json()["run_ids"]
        deadline = time.monotonic() + 30
        while (run := client.get(f"{MODEL}/runs/{run_id}").json())["finished_at"] is None:
            assert time.monotonic() < deadline, f"run {run_id} did not finish: {run}"
            time.sleep(0.2)
    with sqlite3.connect(server.workdir / "data" / "monitor.db") as store:
        [(model_id,)] = store.execute("SELECT id FROM registered_model WHERE name = 'scored'")
    lines = _json_lines(server.log_path.read_text())  # every line parses
    about_run = [line for line in lines if line.get("run_id") == run_id]
    assert about_run, f"no line carries run_id {run_id}:\n{server.log_tail()}"
    finished = about_run[-1]
    assert finished["level"] == "info"
    assert finished["message"].startswith(f"monitor run {run_id} ")
    assert (finished["model_id"], finished["monitor_id"]) == (model_id, run["monitor_id"])
