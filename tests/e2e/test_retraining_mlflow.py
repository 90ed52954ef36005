"""Drift heals the model, end to end, on loopback: a real `mlflow server` (SQLite backend, local
artifacts) and a real `monitor serve`. A drift event starts the example pipeline, the new version
is registered and passes the gate against @champion, and @challenger is set; a deliberately worse
candidate (trained on shuffled labels) fails the gate and no alias moves."""

import time
from collections.abc import Iterator
from typing import Any

import httpx
import mlflow
import pytest
from mlflow import MlflowClient

from examples.retrain_sklearn import build_model, log_model
from tests.e2e.mlflow_server import running_mlflow_server
from tests.e2e.server import MonitorServer, bearer, running_server
from tests.retraining.scenario import (
    CANCER,
    REFERENCE_ROWS,
    cancer_frame,
    cancer_model_payload,
    kept_tracking_uri,
    python_pipeline,
    upload_cancer_data,
)

pytestmark = pytest.mark.slow

RUN_TIMEOUT_S = 180.0
FINAL = {"succeeded", "failed", "timed_out", "interrupted"}


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_mlflow_server(tmp_path_factory.mktemp("mlflow-server")) as url:
        yield url


@pytest.fixture(scope="module")
def champion(mlflow_server: str) -> str:
    """Version 1 of `cancer`, @champion: a logistic regression on `mean_radius` alone, trained
    on the reference rows and taking all the features (the production signature)."""
    frame = cancer_frame().iloc[:REFERENCE_ROWS]
    features = cancer_model_payload()["features"]
    x = frame[[f["name"] for f in features]]
    model = build_model([features[0]], "binary_classification", "linear", 0).fit(x, frame["label"])
    client = MlflowClient(mlflow_server, registry_uri=mlflow_server)
    experiment = client.create_experiment("champions")
    with kept_tracking_uri():
        mlflow.set_tracking_uri(mlflow_server)
        with mlflow.start_run(experiment_id=experiment):
            info = log_model(model, x)
    client.create_registered_model(CANCER)
    version = client.create_model_version(CANCER, info.model_uri, model_id=info.model_id)
    client.set_registered_model_alias(CANCER, "champion", version.version)
    return str(version.version)


@pytest.fixture(scope="module")
def monitor_server(
    mlflow_server: str, champion: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MonitorServer]:
    settings = {
        "MONITOR_MLFLOW_TRACKING_URI": mlflow_server,
        "MONITOR_RETRAINING_POLL_SECONDS": "0.5",
        "MONITOR_SCHEDULER_POLL_SECONDS": "0.5",
        "MONITOR_SCHEDULER_SYNC_SECONDS": "0.5",
    }
    with running_server(tmp_path_factory.mktemp("monitor-workdir"), settings) as server:
        yield server


def _aliases(client: MlflowClient) -> dict[str, str]:
    model = client.get_registered_model(CANCER)
    return {alias: str(version) for alias, version in model.aliases.items()}


def _final_run(api: httpx.Client, after: int = 0) -> dict[str, Any]:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        runs = api.get(f"/api/v1/models/{CANCER}/retraining/runs").json()["data"]
        done = [r for r in runs if r["id"] > after and r["status"] in FINAL]
        if done:
            run: dict[str, Any] = api.get(
                f"/api/v1/models/{CANCER}/retraining/runs/{done[0]['id']}"
            ).json()
            return run
        time.sleep(0.5)
    raise AssertionError(f"no retraining run finished within {RUN_TIMEOUT_S} s")


def test_drift_retrains_and_the_gate_decides_the_challenger(
    monitor_server: MonitorServer, mlflow_server: str, champion: str
) -> None:
    registry = MlflowClient(mlflow_server, registry_uri=mlflow_server)
    headers = bearer(monitor_server.create_key("admin"))
    pipeline = python_pipeline(registry_model=CANCER, cooldown="1h")
    with httpx.Client(base_url=monitor_server.base_url, headers=headers, timeout=30.0) as api:
        upload_cancer_data(api, headers, shift="worst_area")
        assert api.put(f"/api/v1/models/{CANCER}/pipeline", json=pipeline).status_code == 200
        monitor = {
            "schedule": {"every": "1s"},
            "window": {"last_records": 400},
            "min_rows": 100,
            "hysteresis": {"onset_after": 1, "resolve_after": 2},
        }
        assert api.post(f"/api/v1/models/{CANCER}/monitors", json=monitor).status_code == 201

        # The monitor's drift event starts the pipeline; the better model passes the gate.
        healed = _final_run(api)
        events = api.get("/api/v1/events", params={"model": CANCER, "limit": 1000}).json()["data"]
        detected = next(e for e in events if e["type"] == "drift.detected")
        assert (healed["trigger"], healed["event_id"]) == ("event", detected["id"])
        assert healed["status"] == "succeeded", (healed["error"], healed["logs"])
        assert healed["gate_passed"] is True, healed["gate"]
        assert healed["gate"]["champion_version"] == champion
        assert _aliases(registry) == {"champion": champion, "challenger": healed["model_version"]}
        version = registry.get_model_version(CANCER, healed["model_version"])
        assert version.tags["monitor.event"] == detected["id"]
        assert version.tags["monitor.retraining_run"] == str(healed["id"])
        assert version.tags["monitor.mlflow_run"] == healed["mlflow_run_id"] == version.run_id
        assert version.tags["monitor.gate"] == "passed"

        # A deliberately worse candidate, by hand: registered, failed by the gate, no alias moves.
        worse = {**pipeline, "parameters": {"shuffle_labels": True}}
        assert api.put(f"/api/v1/models/{CANCER}/pipeline", json=worse).status_code == 200
        assert api.post(f"/api/v1/models/{CANCER}/retraining/runs").status_code == 202
        rejected = _final_run(api, after=healed["id"])
        assert rejected["status"] == "succeeded", (rejected["error"], rejected["logs"])
        assert rejected["gate_passed"] is False
        assert "breaks" in rejected["gate"]["reason"]
        assert _aliases(registry) == {"champion": champion, "challenger": healed["model_version"]}
        assert (
            registry.get_model_version(CANCER, rejected["model_version"]).tags["monitor.gate"]
            == "failed"
        )
        kinds = [
            e["type"]
            for e in api.get("/api/v1/events", params={"model": CANCER, "limit": 1000}).json()[
                "data"
            ]
        ]
        assert kinds.count("validation.passed") == 1 and kinds.count("validation.failed") == 1
