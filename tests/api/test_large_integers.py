"""An id or offset beyond 64 bits is a 422 naming the parameter, never a server error."""

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
    ],
)
def test_an_integer_beyond_64_bits_is_refused_naming_it(
    client: TestClient, admin: dict[str, str], method: str, path: str, field: str
) -> None:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    reply = client.request(method, path, headers=admin)
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"][-1] == field
