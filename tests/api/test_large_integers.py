"""An id or offset beyond its column's range is a 422 naming the parameter, never a server
error: 64 bits for records and runs, 32 bits for configuration such as rollouts."""

import pytest
from fastapi.testclient import TestClient

from tests.factories import model_payload

HUGE = 2**64


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("GET", f"/api/v1/models/churn/runs/{HUGE}", "run_id"),
        ("GET", f"/api/v1/models/churn/runs/{HUGE}/report", "run_id"),
        ("GET", f"/api/v1/models/churn/retraining/runs/{HUGE}", "run_id"),
        ("POST", f"/api/v1/retraining/runs/{HUGE}/callback", "run_id"),
        ("GET", f"/api/v1/models/churn/retraining/runs?offset={HUGE}", "offset"),
        ("GET", f"/api/v1/deliveries/{HUGE}", "delivery_id"),
        ("GET", f"/api/v1/models/churn/rollouts/{2**31}", "rollout_id"),
        ("GET", f"/api/v1/models/churn/rollouts/{2**31}/checks", "rollout_id"),
        ("POST", f"/api/v1/models/churn/rollouts/{2**31}/pause", "rollout_id"),
    ],
)
def test_an_integer_beyond_64_bits_is_refused_naming_it(
    client: TestClient, admin: dict[str, str], method: str, path: str, field: str
) -> None:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    reply = client.request(method, path, headers=admin)
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"][-1] == field
