"""Serving endpoints: registered per model, validated, listed, removed; the routing follows."""

from fastapi.testclient import TestClient

from tests.factories import endpoint_payload, model_payload

ENDPOINTS = "/api/v1/models/churn/endpoints"


def test_registering_an_endpoint_returns_it(
    client: TestClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    reply = client.post(
        ENDPOINTS,
        json=endpoint_payload("triton", protocol="v2", accelerator="gpu", v2_model_name="churn"),
        headers=admin,
    )
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert {k: body[k] for k in ("name", "protocol", "accelerator", "v2_model_name")} == {
        "name": "triton",
        "protocol": "v2",
        "accelerator": "gpu",
        "v2_model_name": "churn",
    }
    listed = client.get(ENDPOINTS, headers=reader).json()
    assert listed["count"] == 1
    assert listed["data"][0]["id"] == body["id"]


def test_a_second_endpoint_of_the_same_name_is_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    client.post(ENDPOINTS, json=endpoint_payload("blue"), headers=admin)
    again = client.post(ENDPOINTS, json=endpoint_payload("blue"), headers=admin)
    assert again.status_code == 409
    assert "already has an endpoint 'blue'" in again.json()["detail"]


def test_a_url_that_is_not_http_is_refused_naming_the_field(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    reply = client.post(ENDPOINTS, json=endpoint_payload("blue", url="ftp://x"), headers=admin)
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"][-1] == "url"
    assert "http(s) URL" in reply.json()["detail"][0]["msg"]


def test_a_v2_model_name_needs_the_v2_protocol(client: TestClient, admin: dict[str, str]) -> None:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    reply = client.post(
        ENDPOINTS, json=endpoint_payload("blue", v2_model_name="churn"), headers=admin
    )
    assert reply.status_code == 422
    assert "v2_model_name: only for protocol 'v2'" in reply.text


def test_a_reader_cannot_register_endpoints(
    client: TestClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    assert client.post(ENDPOINTS, json=endpoint_payload("blue"), headers=reader).status_code == 403


def test_the_first_endpoint_takes_the_stable_traffic_with_a_new_revision(
    client: TestClient, admin: dict[str, str], ingest: dict[str, str]
) -> None:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    before = client.get("/api/v1/models/churn/routing", headers=ingest)
    client.post(ENDPOINTS, json=endpoint_payload("blue", model_version="3"), headers=admin)
    client.post(
        ENDPOINTS, json=endpoint_payload("green", url="http://127.0.0.1:9002"), headers=admin
    )
    after = client.get("/api/v1/models/churn/routing", headers=ingest)
    assert after.json()["variants"] == [
        {
            "name": "stable",
            "model_version": "3",
            "endpoint": "http://127.0.0.1:9001",
            "weight": 100,
            "v2_model_name": None,
        }
    ]
    assert after.json()["revision"] > before.json()["revision"]
    assert after.headers["ETag"] != before.headers["ETag"]


def test_deleting_the_stable_endpoint_hands_traffic_to_the_next(
    client: TestClient, admin: dict[str, str], ingest: dict[str, str]
) -> None:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    client.post(ENDPOINTS, json=endpoint_payload("blue"), headers=admin)
    client.post(
        ENDPOINTS, json=endpoint_payload("green", url="http://127.0.0.1:9002"), headers=admin
    )
    assert client.delete(f"{ENDPOINTS}/blue", headers=admin).status_code == 204
    routing = client.get("/api/v1/models/churn/routing", headers=ingest).json()
    assert routing["variants"][0]["endpoint"] == "http://127.0.0.1:9002"
    assert client.get(ENDPOINTS, headers=admin).json()["count"] == 1


def test_deleting_an_unknown_endpoint_is_404(client: TestClient, admin: dict[str, str]) -> None:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    reply = client.delete(f"{ENDPOINTS}/ghost", headers=admin)
    assert reply.status_code == 404
    assert "has no endpoint 'ghost'" in reply.json()["detail"]
