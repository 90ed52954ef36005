"""`monitor rollout`: start, status and the manual controls, on the store the settings name."""

import json
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.cli import run_monitor
from tests.factories import endpoint_payload, model_payload


def rollout_cli(*args: str, database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_monitor("rollout", *args, cwd=cwd, database_url=database_url, check=False)


@pytest.fixture
def endpoints(client: TestClient, admin: dict[str, str]) -> None:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    client.post("/api/v1/models/churn/endpoints", json=endpoint_payload("blue"), headers=admin)
    green = endpoint_payload("green", url="http://127.0.0.1:9002", model_version="2")
    client.post("/api/v1/models/churn/endpoints", json=green, headers=admin)


@pytest.mark.usefixtures("endpoints")
def test_a_rollout_started_from_the_cli_is_paused_and_aborted_there(
    database_url: str, tmp_path: Path
) -> None:
    started = rollout_cli(
        "start", "--model", "churn", "--candidate-endpoint", "green", "--candidate-version",
        "2", "--steps", "10,100", "--bake-seconds", "30",
        database_url=database_url, cwd=tmp_path,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    assert "progressing at 10%" in started.stdout
    paused = rollout_cli("pause", "--model", "churn", database_url=database_url, cwd=tmp_path)
    assert "paused at 10%" in paused.stdout
    rollout_cli("abort", "--model", "churn", database_url=database_url, cwd=tmp_path)
    status = rollout_cli(
        "status", "--model", "churn", "--json", database_url=database_url, cwd=tmp_path
    )
    body = json.loads(status.stdout)
    assert [t["state"] for t in body["transitions"]] == ["progressing", "paused", "aborted"]
    assert (body["steps"], body["bake_seconds"]) == ([10, 100], 30)


@pytest.mark.usefixtures("endpoints")
def test_an_action_the_state_does_not_allow_exits_1_with_the_reason(
    database_url: str, tmp_path: Path
) -> None:
    rollout_cli(
        "start", "--model", "churn", "--candidate-endpoint", "green", "--candidate-version", "2",
        database_url=database_url, cwd=tmp_path,
    )  # fmt: skip
    resumed = rollout_cli("resume", "--model", "churn", database_url=database_url, cwd=tmp_path)
    assert resumed.returncode == 1
    assert "is progressing; resume needs it paused" in resumed.stderr


def test_bad_steps_are_refused_before_anything_is_stored(database_url: str, tmp_path: Path) -> None:
    reply = rollout_cli(
        "start", "--model", "churn", "--candidate-endpoint", "green", "--steps", "5,x",
        database_url=database_url, cwd=tmp_path,
    )  # fmt: skip
    assert reply.returncode == 2
    assert "not a comma-separated list of percents" in reply.stderr
