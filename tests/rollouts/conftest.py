"""Fixtures of the rollout tests: an embedded MLflow store with a logged scikit-learn model,
a registered model per test with versions 1 (@champion) and 2 (@challenger), and settings
pointing the control plane at that store."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import mlflow
import mlflow.sklearn
import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient
from mlflow.models import infer_signature
from sqlalchemy import Engine

from monitor.rollouts.controller import RolloutController
from monitor.settings import Settings
from tests.retraining.scenario import kept_tracking_uri
from tests.rollouts.traffic import labelled_frame, model_payload
from triggers.registry.mlflow_registry import CHALLENGER, CHAMPION, Registry


@dataclass(frozen=True)
class MlflowStore:
    uri: str
    model_uri: str  # the logged model each registered version is made from
    run_id: str


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowStore]:
    from sklearn.linear_model import LogisticRegression

    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    frame, labels = labelled_frame(400, seed=3)
    model = LogisticRegression().fit(frame, labels)
    with kept_tracking_uri():
        mlflow.set_tracking_uri(uri)
        experiment = MlflowClient(uri).create_experiment(
            "rollouts", artifact_location=(root / "artifacts").as_uri()
        )
        with mlflow.start_run(experiment_id=experiment) as run:
            info = mlflow.sklearn.log_model(
                model,
                name="model",
                signature=infer_signature(frame, model.predict(frame)),
                pip_requirements=["scikit-learn"],
            )
    yield MlflowStore(uri, info.model_uri, run.info.run_id)


@pytest.fixture
def registered(mlflow_store: MlflowStore) -> str:
    """A registered model named for the test, versions 1 (@champion) and 2 (@challenger)."""
    name = f"rollout-{uuid.uuid4().hex[:8]}"
    registry = Registry(mlflow_store.uri)
    for _ in range(2):
        registry.register(
            name=name, model_uri=mlflow_store.model_uri, run_id=mlflow_store.run_id, tags={}
        )
    registry.set_alias(name, CHAMPION, "1")
    registry.set_alias(name, CHALLENGER, "2")
    return name


@pytest.fixture
def settings(settings: Settings, mlflow_store: MlflowStore, tmp_path: Path) -> Settings:
    return settings.model_copy(
        update={
            "mlflow_tracking_uri": mlflow_store.uri,
            "mlflow_artifact_root": tmp_path / "mlartifacts",
        }
    )


@pytest.fixture
def controller(engine: Engine, settings: Settings) -> RolloutController:
    return RolloutController(engine, settings)


@pytest.fixture
def watched(client: TestClient, admin: dict[str, str], registered: str) -> str:
    """The registered model under watch, with stable endpoint `blue` serving version 1 and
    candidate endpoint `green`."""
    client.post("/api/v1/models", json=model_payload(registered), headers=admin)
    for name, port, version in (("blue", 9001, "1"), ("green", 9002, None)):
        reply = client.post(
            f"/api/v1/models/{registered}/endpoints",
            json={"name": name, "url": f"http://127.0.0.1:{port}", "model_version": version},
            headers=admin,
        )
        assert reply.status_code == 201, reply.text
    return registered
