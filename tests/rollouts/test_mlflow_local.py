"""The local deployer: a registered version served by a real `mlflow models serve`, scored
through MLflow's scoring protocol, and stopped."""

import httpx
import pytest

from monitor.deployers.mlflow_local import DeployError, MlflowModelServer
from tests.rollouts.conftest import MlflowStore
from tests.rollouts.traffic import feature_frame


def test_a_served_version_scores_requests_until_stopped(
    mlflow_store: MlflowStore, registered: str
) -> None:
    server = MlflowModelServer(registered, "2", tracking_uri=mlflow_store.uri)
    with server as url:
        assert httpx.get(f"{url}/ping", timeout=5).status_code == 200
        rows = feature_frame(3, seed=9).to_dict("records")
        reply = httpx.post(f"{url}/invocations", json={"dataframe_records": rows}, timeout=30)
        assert reply.status_code == 200, reply.text
        predictions = reply.json()["predictions"]
        assert len(predictions) == 3
        assert {str(p) for p in predictions} <= {"0", "1"}
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/ping", timeout=2)


def test_a_version_that_does_not_exist_fails_with_the_server_log(
    mlflow_store: MlflowStore, registered: str
) -> None:
    server = MlflowModelServer(registered, "99", tracking_uri=mlflow_store.uri, ready_timeout=60)
    with pytest.raises(DeployError, match="did not become ready") as raised:
        server.start()
    assert "99" in str(raised.value)
