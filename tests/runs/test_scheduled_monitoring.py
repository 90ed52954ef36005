"""The main job end to end, in one process: scheduled runs flag exactly the drifted features,
and drift.detected then drift.resolved follow the hysteresis."""

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from monitor.api.app import create_app
from monitor.settings import Settings
from tests.factories import drift_frame, drift_model_payload, records_from, upload_reference

WINDOW = 2000
MODEL = "/api/v1/models/scored"


@pytest.fixture
def scheduled(settings: Settings) -> Iterator[TestClient]:
    fast = settings.model_copy(
        update={"scheduler": True, "scheduler_poll_seconds": 0.2, "scheduler_sync_seconds": 0.2}
    )
    with TestClient(create_app(fast)) as client:
        yield client


def _wait_for(check: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"condition not met within {timeout} s")


def _runs_after(client: TestClient, headers: dict[str, str], run_id: int) -> list[dict]:
    runs = client.get(f"{MODEL}/runs", params={"limit": 1000}, headers=headers).json()["data"]
    return [r for r in runs if r["id"] > run_id and r["status"] not in ("queued", "running")]


def _phase(
    client: TestClient, headers: dict[str, str], prefix: str, shifted: tuple[str, ...], seed: int
) -> list[dict]:
    """Send one window of traffic, then return the finished runs that saw only it (two or more)."""
    runs = client.get(f"{MODEL}/runs", params={"limit": 1}, headers=headers).json()["data"]
    before = runs[0]["id"] if runs else 0
    frame = drift_frame(WINDOW, seed=seed, shifted=shifted)
    reply = client.post(
        f"{MODEL}/inferences", json={"records": records_from(frame, prefix)}, headers=headers
    )
    assert reply.json()["accepted"] == WINDOW
    # Runs that started before the traffic landed may straddle two windows; skip one.
    return _wait_for(
        lambda: (done := _runs_after(client, headers, before)) and len(done) >= 3 and done
    )


def _drifted_columns(client: TestClient, headers: dict[str, str], run: dict) -> set[str]:
    detail = client.get(f"{MODEL}/runs/{run['id']}", headers=headers).json()
    return {r["feature"] for r in detail["results"] if r["drifted"] and r["role"] == "feature"}


def test_scheduled_runs_flag_the_drifted_features_and_settle_alerts(
    scheduled: TestClient, admin: dict[str, str], tmp_path: Path
) -> None:
    client = scheduled
    client.post("/api/v1/models", json=drift_model_payload(), headers=admin)
    upload_reference(client, admin, drift_frame(20_000, seed=1))
    monitor = {
        "schedule": {"every": "1s"},
        "window": {"last_records": WINDOW},
        "min_rows": WINDOW,
        "hysteresis": {"onset_after": 2, "resolve_after": 2},
    }
    assert client.post(f"{MODEL}/monitors", json=monitor, headers=admin).status_code == 201

    clean = _phase(client, admin, "clean", (), seed=2)
    drifted = _phase(client, admin, "drifted", ("x1", "region"), seed=3)
    recovered = _phase(client, admin, "recovered", (), seed=4)

    assert all(r["status"] == "succeeded" for r in clean + drifted + recovered)
    assert _drifted_columns(client, admin, clean[0]) == set()
    assert _drifted_columns(client, admin, drifted[0]) == {"x1", "region"}
    assert _drifted_columns(client, admin, recovered[0]) == set()
    events = client.get(
        "/api/v1/events", params={"model": "scored", "limit": 1000}, headers=admin
    ).json()["data"]
    kinds = [e["type"] for e in reversed(events) if e["type"] != "drift.ongoing"]
    assert kinds == ["drift.detected", "drift.resolved"]
    detected = next(e for e in events if e["type"] == "drift.detected")
    assert set(detected["data"]["drifting"]) == {"x1", "region"}
    assert detected["dashboard_url"].endswith("/models/scored")
