"""A queued run is claimed by one scheduler only, even when two drain the queue at once."""

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from monitor.tasks.work import RunClaim, claim_run
from tests.factories import drift_model_payload

MODEL = "/api/v1/models/scored"


def test_a_queued_run_is_claimed_once(
    client: TestClient, admin: dict[str, str], engine: Engine
) -> None:
    client.post("/api/v1/models", json=drift_model_payload(), headers=admin)
    monitor = {"window": {"duration": "1h"}, "min_rows": 500}
    assert client.post(f"{MODEL}/monitors", json=monitor, headers=admin).status_code == 201
    queued = client.post(
        f"{MODEL}/monitors/drift/runs", json={"window_end": "2026-11-23T12:00:00Z"}, headers=admin
    ).json()
    [run_id] = queued["run_ids"]
    assert claim_run(engine, run_id) is RunClaim.CLAIMED
    assert claim_run(engine, run_id) is RunClaim.BUSY
    run = client.get(f"{MODEL}/runs/{run_id}", headers=admin).json()
    assert run["status"] == "running"
