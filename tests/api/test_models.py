"""Registering, reading, listing and evolving models."""

from fastapi.testclient import TestClient

from tests.factories import model_payload


def test_registered_model_reads_back_with_defaults(
    client: TestClient, admin: dict[str, str]
) -> None:
    created = client.post("/api/v1/models", json=model_payload(), headers=admin)
    assert created.status_code == 201
    body = client.get("/api/v1/models/churn", headers=admin).json()
    assert body["task"] == "binary_classification"
    assert body["class_labels"] == ["0", "1"]
    assert body["features"][1] == {"name": "plan", "kind": "categorical", "nullable": True}


def test_registering_a_name_twice_is_a_conflict(client: TestClient, admin: dict[str, str]) -> None:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    again = client.post("/api/v1/models", json=model_payload(), headers=admin)
    assert again.status_code == 409
    assert "PATCH" in again.json()["detail"]


def test_duplicate_feature_names_are_refused_by_name(
    client: TestClient, admin: dict[str, str]
) -> None:
    features = [{"name": "x", "kind": "numerical"}, {"name": "x", "kind": "categorical"}]
    reply = client.post("/api/v1/models", json=model_payload(features=features), headers=admin)
    assert reply.status_code == 422
    assert "'x' is listed twice" in reply.text


def test_multiclass_model_needs_class_labels(client: TestClient, admin: dict[str, str]) -> None:
    payload = model_payload(task="multiclass_classification")
    reply = client.post("/api/v1/models", json=payload, headers=admin)
    assert reply.status_code == 422
    assert "class_labels" in reply.text


def test_unknown_feature_kind_is_refused(client: TestClient, admin: dict[str, str]) -> None:
    features = [{"name": "x", "kind": "text"}]
    reply = client.post("/api/v1/models", json=model_payload(features=features), headers=admin)
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"] == ["body", "features", 0, "kind"]


def test_models_list_pages_with_a_total_count(client: TestClient, admin: dict[str, str]) -> None:
    for name in ("a", "b", "c"):
        client.post("/api/v1/models", json=model_payload(name), headers=admin)
    page = client.get("/api/v1/models?limit=2&offset=1", headers=admin).json()
    assert page["count"] == 3
    assert [m["name"] for m in page["data"]] == ["b", "c"]


def test_unknown_model_is_404_with_a_hint(client: TestClient, admin: dict[str, str]) -> None:
    reply = client.get("/api/v1/models/nope", headers=admin)
    assert reply.status_code == 404
    assert "POST /api/v1/models" in reply.json()["detail"]


def test_update_adds_a_nullable_feature(client: TestClient, admin: dict[str, str]) -> None:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    features = [
        *model_payload()["features"],
        {"name": "region", "kind": "categorical", "nullable": True},
    ]
    reply = client.patch("/api/v1/models/churn", json={"features": features}, headers=admin)
    assert reply.status_code == 200
    assert [f["name"] for f in reply.json()["features"]][-1] == "region"


def test_update_refuses_a_new_required_feature(client: TestClient, admin: dict[str, str]) -> None:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    features = [*model_payload()["features"], {"name": "region", "kind": "categorical"}]
    reply = client.patch("/api/v1/models/churn", json={"features": features}, headers=admin)
    assert reply.status_code == 422
    assert "must be nullable" in reply.text


def test_update_refuses_to_change_a_feature_kind(client: TestClient, admin: dict[str, str]) -> None:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    features = [{"name": "age", "kind": "categorical"}, *model_payload()["features"][1:]]
    reply = client.patch("/api/v1/models/churn", json={"features": features}, headers=admin)
    assert reply.status_code == 422
    assert "cannot change kind" in reply.text


def test_update_refuses_to_remove_a_feature(client: TestClient, admin: dict[str, str]) -> None:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    features = model_payload()["features"][:2]
    reply = client.patch("/api/v1/models/churn", json={"features": features}, headers=admin)
    assert reply.status_code == 422
    assert "cannot be removed" in reply.text


def test_integer_class_labels_are_accepted_and_kept_as_text(
    client: TestClient, admin: dict[str, str]
) -> None:
    payload = model_payload(task="multiclass_classification", class_labels=[0, 1, 2])
    assert client.post("/api/v1/models", json=payload, headers=admin).status_code == 201
    body = client.get("/api/v1/models/churn", headers=admin).json()
    assert body["class_labels"] == ["0", "1", "2"]
