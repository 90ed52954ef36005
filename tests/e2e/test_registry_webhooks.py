"""An alias moved in a real `mlflow server` reaches a real `monitor serve` through MLflow's own
webhook delivery (registered with MLflow's API, signed with the stored secret): the champion
history and the sidecars' routing follow within 10 s, without a restart and long before the
@champion poll (every 30 s by default) would have seen it."""

import time
from collections.abc import Iterator

import httpx
import pytest
from mlflow import MlflowClient
from mlflow.entities.webhook import WebhookAction, WebhookEntity, WebhookEvent

from tests.e2e.mlflow_server import running_mlflow_server
from tests.e2e.server import MonitorServer, bearer, running_server
from tests.factories import endpoint_payload, model_payload

pytestmark = pytest.mark.slow

ALIAS_SEEN_WITHIN_S = 10.0
MODEL = "/api/v1/models/churn"
# MLflow delivers webhooks to public https addresses only unless told otherwise; these
# receivers listen on loopback over http, and the cached webhook list is re-read each second.
MLFLOW_WEBHOOKS_TO_LOOPBACK = {
    "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
    "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
    "MLFLOW_WEBHOOK_CACHE_TTL": "1",
}


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("mlflow-server")
    with running_mlflow_server(root, MLFLOW_WEBHOOKS_TO_LOOPBACK) as url:
        yield url


@pytest.fixture(scope="module")
def monitor_server(
    mlflow_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MonitorServer]:
    settings = {"MONITOR_MLFLOW_TRACKING_URI": mlflow_server}
    with running_server(tmp_path_factory.mktemp("monitor-workdir"), settings) as server:
        yield server


def _stable_version(api: httpx.Client) -> str | None:
    variants = api.get(f"{MODEL}/routing").json()["variants"]
    return next(v["model_version"] for v in variants if v["name"] == "stable")


def test_an_alias_moved_in_mlflow_moves_routing_and_champion_within_10_s(
    mlflow_server: str, monitor_server: MonitorServer
) -> None:
    registry = MlflowClient(mlflow_server, registry_uri=mlflow_server)
    registry.create_registered_model("churn")
    run = registry.create_run(registry.create_experiment("churn")).info.run_id
    for _ in range(2):
        registry.create_model_version("churn", source=f"runs:/{run}/model", run_id=run)
    registry.set_registered_model_alias("churn", "champion", "1")
    key = monitor_server.create_key("admin")
    with httpx.Client(base_url=monitor_server.base_url, headers=bearer(key), timeout=10) as api:
        assert api.post("/api/v1/models", json=model_payload()).status_code == 201
        for name, port, version in (("blue", 9001, "1"), ("green", 9002, "2")):
            body = endpoint_payload(name, url=f"http://127.0.0.1:{port}", model_version=version)
            assert api.post(f"{MODEL}/endpoints", json=body).status_code == 201
        secret = api.put("/api/v1/integrations/mlflow/webhook-secret", json={}).json()["secret"]
        registry.create_webhook(
            name="model-monitor",
            url=f"{monitor_server.base_url}/api/v1/integrations/mlflow/webhook",
            events=[WebhookEvent(WebhookEntity.MODEL_VERSION_ALIAS, WebhookAction.CREATED)],
            secret=secret,
        )
        assert _stable_version(api) == "1"

        moved_at = time.monotonic()
        registry.set_registered_model_alias("churn", "champion", "2")
        while _stable_version(api) != "2":
            assert time.monotonic() - moved_at < ALIAS_SEEN_WITHIN_S, monitor_server.log_tail()
            time.sleep(0.1)
        seen_after = time.monotonic() - moved_at
        champions = api.get(f"{MODEL}/champions").json()["data"]
    assert (champions[-1]["model_version"], champions[-1]["source"]) == ("2", "registry")
    print(f"@champion moved in MLflow was followed after {seen_after:.2f} s")
