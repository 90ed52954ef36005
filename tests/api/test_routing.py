"""The traffic split sidecars poll, cheaply through ETags."""

from fastapi.testclient import TestClient

from tests.factories import model_payload


def test_routing_sends_all_traffic_to_stable(
    client: TestClient, admin: dict[str, str], ingest: dict[str, str]
) -> None:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    body = client.get("/api/v1/models/churn/routing", headers=ingest).json()
    assert [(v["name"], v["weight"]) for v in body["variants"]] == [("stable", 100)]
    assert isinstance(body["revision"], int)


def test_unchanged_routing_answers_304_to_its_etag(
    client: TestClient, admin: dict[str, str], ingest: dict[str, str]
) -> None:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    first = client.get("/api/v1/models/churn/routing", headers=ingest)
    etag = first.headers["ETag"]
    again = client.get("/api/v1/models/churn/routing", headers={**ingest, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
