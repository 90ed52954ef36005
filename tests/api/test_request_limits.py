"""The per-route-class body cap: what a caller over it is told."""

from fastapi.testclient import TestClient

from tests.factories import model_payload


def test_configuration_body_over_its_cap_is_413_naming_the_setting(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.app.state.settings.max_other_request_bytes = 1024  # type: ignore[attr-defined]
    payload = model_payload(description="x" * 2048)
    reply = client.post("/api/v1/models", json=payload, headers=admin)
    assert reply.status_code == 413
    assert "MONITOR_MAX_OTHER_REQUEST_BYTES" in reply.json()["detail"]
