"""`monitor retrain` as a real process: it prints the outcome, and when it is killed mid-run the
run is reconciled as interrupted, its pipeline killed, never left running."""

import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from monitor.entities.event import Event
from monitor.entities.retraining import RetrainingRun, RetrainStatus
from monitor.retraining.lifecycle import sweep
from monitor.store.types import utc_now
from tests.e2e.server import clean_environment, monitor_command
from tests.factories import model_payload
from tests.retraining.scenario import command_pipeline, configure, process_gone

MODEL = "churn"


def _cli_env(database_url: str, mlflow_uri: str, tmp_path: Path) -> dict[str, str]:
    return clean_environment(
        {
            "MONITOR_DATABASE_URL": database_url,
            "MONITOR_MLFLOW_TRACKING_URI": mlflow_uri,
            "MONITOR_DATA_DIR": str(tmp_path / "cli-data"),
            "MONITOR_RETRAINING_HEARTBEAT_SECONDS": "0.5",
        }
    )


def _retrain_here(
    database_url: str, mlflow_uri: str, tmp_path: Path
) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(
        monitor_command("retrain", "--model", MODEL),
        cwd=tmp_path,
        env=_cli_env(database_url, mlflow_uri, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_retrain_command_prints_a_failure_and_exits_1(
    client: TestClient,
    admin: dict[str, str],
    database_url: str,
    mlflow_uri: str,
    tmp_path: Path,
) -> None:
    client.post("/api/v1/models", json=model_payload(MODEL), headers=admin)
    configure(client, admin, command_pipeline("echo 'features missing' >&2; exit 4"), MODEL)
    done = _retrain_here(database_url, mlflow_uri, tmp_path)
    assert done.returncode == 1
    assert "status: failed" in done.stdout
    assert "error: the pipeline exited with status 4; see the logs" in done.stdout
    assert "features missing" in done.stderr


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_retrain_command_names_a_model_without_a_pipeline(
    client: TestClient, admin: dict[str, str], database_url: str, mlflow_uri: str, tmp_path: Path
) -> None:
    client.post("/api/v1/models", json=model_payload(MODEL), headers=admin)
    done = _retrain_here(database_url, mlflow_uri, tmp_path)
    assert done.returncode == 1
    assert "has no retraining pipeline; configure one with PUT" in done.stderr


def _wait_for_pid(engine: Engine, timeout: float = 60.0) -> RetrainingRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Session(engine) as session:
            run = session.exec(select(RetrainingRun)).first()
        if run is not None and run.pid is not None:
            return run
        time.sleep(0.1)
    raise AssertionError("the pipeline never started")


def test_a_control_plane_killed_mid_run_leaves_the_run_interrupted(
    client: TestClient,
    admin: dict[str, str],
    engine: Engine,
    database_url: str,
    mlflow_uri: str,
    tmp_path: Path,
) -> None:
    client.post("/api/v1/models", json=model_payload(MODEL), headers=admin)
    trainer = tmp_path / "trainer.pid"
    configure(client, admin, command_pipeline(f"sleep 120 & echo $! > {trainer}; wait"), MODEL)
    cli = subprocess.Popen(
        monitor_command("retrain", "--model", MODEL),
        cwd=tmp_path,
        env=_cli_env(database_url, mlflow_uri, tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        running = _wait_for_pid(engine)
    finally:
        cli.send_signal(signal.SIGKILL)  # a crash: no handler runs
        cli.wait(timeout=10)
    assert running.pid is not None
    assert process_gone(running.pid), "the pipeline's shell outlived its control plane"

    # Later, the active scheduler finds the heartbeat stale.
    swept = sweep(engine, now=utc_now() + timedelta(minutes=5), stale_after=timedelta(minutes=1))

    assert swept == 1
    with Session(engine) as session:
        run = session.get_one(RetrainingRun, running.id)
        kinds = session.exec(select(Event.type).order_by(col(Event.id))).all()
    assert run.status == RetrainStatus.INTERRUPTED
    assert (run.error or "").startswith("interrupted: the control plane stopped")
    assert run.finished_at is not None
    assert kinds[-1] == "retrain.failed"
    assert process_gone(int(trainer.read_text())), "the pipeline's own child was left running"
