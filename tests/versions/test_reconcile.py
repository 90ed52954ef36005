"""`@champion` moved by hand in MLflow (a notebook, CI) reaches the champion's history on the
scheduler's next reconcile, so monitors re-baseline on it as they do after a promotion."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient
from sqlalchemy import Engine

from monitor.settings import Settings
from monitor.versions.reconcile import reconcile_champions
from tests.factories import endpoint_payload, model_payload


@pytest.fixture
def registry(settings: Settings, tmp_path: Path) -> tuple[Settings, MlflowClient]:
    """A real embedded MLflow registry holding versions 1 and 2 of `churn`, @champion on 1."""
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    client = MlflowClient(uri, registry_uri=uri)
    client.create_registered_model("churn")
    for _ in range(2):
        client.create_model_version("churn", source=(tmp_path / "model").as_uri())
    client.set_registered_model_alias("churn", "champion", "1")
    return settings.model_copy(update={"mlflow_tracking_uri": uri}), client


def _champions(client: TestClient, headers: dict[str, str]) -> list[tuple[str, str]]:
    reply = client.get("/api/v1/models/churn/champions", headers=headers)
    return [(c["model_version"], c["source"]) for c in reply.json()["data"]]


def test_an_alias_moved_by_hand_becomes_the_champion_once(
    client: TestClient,
    admin: dict[str, str],
    engine: Engine,
    registry: tuple[Settings, MlflowClient],
) -> None:
    settings, mlflow = registry
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    stable = endpoint_payload("blue", model_version="1")
    assert client.post("/api/v1/models/churn/endpoints", json=stable, headers=admin).is_success
    assert reconcile_champions(engine, settings) == 0  # MLflow agrees with what is known

    mlflow.set_registered_model_alias("churn", "champion", "2")

    assert reconcile_champions(engine, settings) == 1
    assert reconcile_champions(engine, settings) == 0
    assert _champions(client, admin) == [("1", "endpoint"), ("2", "registry")]


def test_a_model_without_a_registry_life_is_not_read(
    client: TestClient, admin: dict[str, str], engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    unreachable = settings.model_copy(update={"mlflow_tracking_uri": "http://127.0.0.1:9"})
    assert reconcile_champions(engine, unreachable) == 0
    assert _champions(client, admin) == []


def test_the_poll_moves_the_stable_routing_to_the_endpoint_serving_the_new_champion(
    client: TestClient,
    admin: dict[str, str],
    engine: Engine,
    registry: tuple[Settings, MlflowClient],
) -> None:
    settings, mlflow = registry
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    for name, version in (("blue", "1"), ("green", "2")):
        url = f"http://127.0.0.1:{9000 + int(version)}"
        body = endpoint_payload(name, url=url, model_version=version)
        assert client.post("/api/v1/models/churn/endpoints", json=body, headers=admin).is_success

    mlflow.set_registered_model_alias("churn", "champion", "2")

    assert reconcile_champions(engine, settings) == 1
    routing = client.get("/api/v1/models/churn/routing", headers=admin).json()
    assert [(v["name"], v["model_version"], v["endpoint"]) for v in routing["variants"]] == [
        ("stable", "2", "http://127.0.0.1:9002")
    ]
