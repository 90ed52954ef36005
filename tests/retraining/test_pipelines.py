"""Pipelines that train for real (the example scikit-learn pipeline on breast-cancer data) into
an embedded MLflow store: the version is registered (or adopted), gated, and @challenger set."""

import io
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from examples.retrain_sklearn import train
from monitor.entities.event import Event
from monitor.entities.reference import ReferenceChunk
from monitor.entities.retraining import RetrainingRun, RetrainStatus
from monitor.retraining.executor import execute_run, run_directory
from monitor.retraining.export import HOLDOUT_FILE, TRAINING_FILE
from monitor.settings import Settings
from tests.retraining.scenario import (
    CANCER,
    cancer_model_payload,
    configure,
    kept_tracking_uri,
    python_pipeline,
    receiver,
    upload_cancer_data,
)
from triggers.retraining import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign_callback


@pytest.fixture
def registry_name() -> str:
    """A registered-model name of this test's own in the shared MLflow store."""
    return f"cancer-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def restore_tracking_uri() -> Iterator[None]:
    """`train` points this process's MLflow at the run's store; undo it afterwards."""
    with kept_tracking_uri():
        yield


def _retrain(
    client: TestClient, headers: dict[str, str], engine: Engine, settings: Settings
) -> RetrainingRun:
    queued = client.post(f"/api/v1/models/{CANCER}/retraining/runs", headers=headers)
    assert queued.status_code == 202, queued.text
    return execute_run(engine, settings, queued.json()["id"])


def _event_types(engine: Engine) -> list[str]:
    with Session(engine) as session:
        kinds = session.exec(select(Event.type).order_by(col(Event.id))).all()
    return [k for k in kinds if k.split(".")[0] in ("retrain", "model", "validation")]


# One store is enough for a real training run here: the HTTP test below takes the same path
# through registration, the gate and the events on both stores.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_python_pipeline_registers_a_version_and_sets_the_challenger(
    client: TestClient,
    admin: dict[str, str],
    engine: Engine,
    retrain_settings: Settings,
    mlflow_uri: str,
    registry_name: str,
) -> None:
    upload_cancer_data(client, admin)
    configure(client, admin, python_pipeline(registry_model=registry_name))

    run = _retrain(client, admin, engine, retrain_settings)

    assert run.status == RetrainStatus.SUCCEEDED, run.error
    assert (run.model_version, run.gate_passed) == ("1", True)
    assert "trained on" in run.logs
    mlflow_client = MlflowClient(mlflow_uri, registry_uri=mlflow_uri)
    challenger = mlflow_client.get_model_version_by_alias(registry_name, "challenger")
    assert str(challenger.version) == "1"
    assert challenger.run_id == run.mlflow_run_id
    assert challenger.tags == {
        "monitor.model": CANCER,
        "monitor.retraining_run": str(run.id),
        "monitor.trigger": "manual",
        "monitor.mlflow_run": run.mlflow_run_id,
        "monitor.gate": "passed",
    }
    assert _event_types(engine) == [
        "retrain.requested",
        "retrain.started",
        "model.registered",
        "validation.passed",
        "retrain.succeeded",
    ]
    detail = client.get(f"/api/v1/models/{CANCER}/retraining/runs/{run.id}", headers=admin).json()
    assert detail["gate"]["reason"] == "no @champion to compare with: the first candidate passes"
    assert detail["lineage"]["version"] == "1"
    assert detail["lineage"]["source"] == "registered"
    assert detail["context"]["data"]["rows"] == {
        "reference": 250,
        "production": 223,
        "held_out": 96,
    }


def _signed(secret: str, body: dict[str, object]) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    now = int(time.time())
    return raw, {
        TIMESTAMP_HEADER: str(now),
        SIGNATURE_HEADER: sign_callback(secret, now, raw),
        "content-type": "application/json",
    }


def test_http_pipeline_trains_elsewhere_and_reports_back_through_the_signed_callback(
    client: TestClient,
    admin: dict[str, str],
    engine: Engine,
    retrain_settings: Settings,
    mlflow_uri: str,
    registry_name: str,
    tmp_path: Path,
    restore_tracking_uri: None,
) -> None:
    upload_cancer_data(client, admin)
    with receiver() as orchestrator:
        configured = configure(
            client,
            admin,
            {
                "kind": "http",
                "url": f"{orchestrator.url}/trigger",
                "registry_model": registry_name,
                "parameters": {"register": True},  # the orchestrator registers; we adopt
            },
        )
        secret = configured["callback_secret"]
        run = _retrain(client, admin, engine, retrain_settings)
        [trigger] = orchestrator.requests
    assert run.status == RetrainStatus.RUNNING  # until the orchestrator calls back
    payload = trigger.body
    assert payload["callback_url"] == f"http://testserver/api/v1/retraining/runs/{run.id}/callback"

    # The orchestrator downloads the export through the signed link and trains on it.
    link = urlsplit(payload["training_data_url"])
    download = client.get(f"{link.path}?{link.query}")
    assert download.status_code == 200
    (tmp_path / "training.parquet").write_bytes(download.content)
    context = payload["context"]
    context["data"]["training"] = str(tmp_path / "training.parquet")
    result = train(context)

    body, headers = _signed(secret, {"status": "succeeded", **result, "logs": "trained remotely\n"})
    reply = client.post(
        payload["callback_url"].removeprefix("http://testserver"), content=body, headers=headers
    )

    assert reply.status_code == 200, reply.text
    assert reply.json()["status"] == "succeeded"
    assert reply.json()["gate_passed"] is True
    version = MlflowClient(mlflow_uri, registry_uri=mlflow_uri).get_model_version_by_alias(
        registry_name, "challenger"
    )
    assert version.run_id == result["mlflow_run_id"]
    assert str(version.version) == result["registered_version"]
    lineage = client.get(f"/api/v1/models/{CANCER}/retraining/lineage", headers=admin).json()
    assert [(e["version"], e["source"]) for e in lineage["data"]] == [("1", "adopted")]
    again = client.post(
        payload["callback_url"].removeprefix("http://testserver"), content=body, headers=headers
    )
    assert again.status_code == 409


def _feature_rows(table: pa.Table, names: list[str]) -> set[tuple[float, ...]]:
    columns = [table.column(name).to_pylist() for name in names]
    return {tuple(round(value, 9) for value in row) for row in zip(*columns, strict=True)}


def _stored_reference(engine: Engine, reference_id: int) -> pa.Table:
    with Session(engine) as session:
        chunks = session.exec(
            select(ReferenceChunk.parquet).where(ReferenceChunk.dataset_id == reference_id)
        ).all()
    return pa.concat_tables(pq.read_table(io.BytesIO(chunk)) for chunk in chunks)


def _retrain_for_reference(
    client: TestClient,
    headers: dict[str, str],
    engine: Engine,
    settings: Settings,
    spec: dict[str, Any],
) -> tuple[RetrainingRun, dict[str, Any]]:
    """A succeeded retraining run of `spec` on the cancer data, and the reference it stored."""
    upload_cancer_data(client, headers)
    configure(client, headers, spec)
    run = _retrain(client, headers, engine, settings)
    assert run.status == RetrainStatus.SUCCEEDED, run.error
    references = client.get(f"/api/v1/models/{CANCER}/references", headers=headers).json()
    [candidate] = [r for r in references["data"] if r["source"] == "retraining"]
    return run, candidate


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_candidates_reference_is_its_held_out_records_never_trained_on(
    client: TestClient,
    admin: dict[str, str],
    engine: Engine,
    retrain_settings: Settings,
    registry_name: str,
) -> None:
    spec = python_pipeline(registry_model=registry_name)
    run, candidate = _retrain_for_reference(client, admin, engine, retrain_settings, spec)

    assert (candidate["model_version"], candidate["retraining_run_id"]) == ("1", run.id)
    assert candidate["row_count"] == 96 and candidate["has_labels"]
    names = [f["name"] for f in cancer_model_payload()["features"]]
    stored = _stored_reference(engine, candidate["id"])
    directory = run_directory(retrain_settings, run.id)
    training = pq.read_table(directory / TRAINING_FILE)
    held_out = pq.read_table(directory / HOLDOUT_FILE)
    assert _feature_rows(stored, names) == _feature_rows(held_out, names)
    assert not _feature_rows(stored, names) & _feature_rows(training, names)
    scores = stored.column("prediction").to_numpy()
    assert ((scores >= 0) & (scores <= 1)).all() and len(set(scores.round(6))) > 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_reference_the_pipeline_hands_back_becomes_the_candidates(
    client: TestClient,
    admin: dict[str, str],
    engine: Engine,
    retrain_settings: Settings,
    registry_name: str,
) -> None:
    spec = python_pipeline(registry_model=registry_name, parameters={"validation_fraction": 0.2})
    run, candidate = _retrain_for_reference(client, admin, engine, retrain_settings, spec)

    handed = pq.read_table(run_directory(retrain_settings, run.id) / "reference.parquet")
    assert candidate["row_count"] == handed.num_rows > 0
    with Session(engine) as session:
        passed = session.exec(select(Event).where(Event.type == "validation.passed")).one()
    assert passed.data["reference_id"] == candidate["id"]
    assert "handed back by the pipeline" in passed.data["reference"]
