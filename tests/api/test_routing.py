"""The traffic split sidecars poll, cheaply through ETags."""

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from monitor.entities.rollout import RoutingState
from tests.factories import endpoint_payload, model_payload, rollout_payload

ROUTING = "/api/v1/models/churn/routing"
ENDPOINTS = "/api/v1/models/churn/endpoints"


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


def test_routing_names_the_v2_model_each_endpoint_serves(
    client: TestClient, admin: dict[str, str], ingest: dict[str, str]
) -> None:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    for name, url, v2_model_name in (
        ("blue", "http://127.0.0.1:9001", None),
        ("green", "http://127.0.0.1:9002", "churn_v2"),
    ):
        endpoint = endpoint_payload(name, url=url, protocol="v2", v2_model_name=v2_model_name)
        assert client.post(ENDPOINTS, json=endpoint, headers=admin).status_code == 201
    before = client.get(ROUTING, headers=ingest).json()
    started = client.post("/api/v1/models/churn/rollouts", json=rollout_payload(), headers=admin)
    assert started.status_code == 201, started.text
    during = client.get(ROUTING, headers=ingest).json()
    assert [(v["name"], v["v2_model_name"]) for v in before["variants"]] == [("stable", None)]
    assert [(v["name"], v["v2_model_name"]) for v in during["variants"]] == [
        ("stable", None),
        ("canary", "churn_v2"),
    ]


def test_a_stable_endpoints_v2_model_name_moves_the_revision_and_etag(
    client: TestClient, admin: dict[str, str], ingest: dict[str, str]
) -> None:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    before = client.get(ROUTING, headers=ingest)
    endpoint = endpoint_payload("triton", protocol="v2", v2_model_name="churn_v2")
    assert client.post(ENDPOINTS, json=endpoint, headers=admin).status_code == 201
    after = client.get(ROUTING, headers={**ingest, "If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.json()["variants"][0]["v2_model_name"] == "churn_v2"
    assert after.json()["revision"] > before.json()["revision"]


def test_a_split_stored_before_v2_model_names_keeps_its_revision_while_unchanged(
    client: TestClient, admin: dict[str, str], ingest: dict[str, str], engine: Engine
) -> None:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    client.post(ENDPOINTS, json=endpoint_payload("blue"), headers=admin)
    with Session(engine) as session:  # as an older release stored it: no v2_model_name key
        (state,) = session.exec(select(RoutingState)).all()
        state.variants = [{k: v for k, v in variant.items() if k != "v2_model_name"}
                          for variant in state.variants]  # fmt: skip
        session.add(state)
        session.commit()
    stored = client.get(ROUTING, headers=ingest)
    # Registering a second endpoint rebuilds the split without changing it.
    other = endpoint_payload("green", url="http://127.0.0.1:9002")
    assert client.post(ENDPOINTS, json=other, headers=admin).status_code == 201
    again = client.get(ROUTING, headers={**ingest, "If-None-Match": stored.headers["ETag"]})
    assert again.status_code == 304
    assert stored.json()["variants"][0]["v2_model_name"] is None
