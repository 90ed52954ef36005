"""Late ground truth: validated like records, upserted on request_id."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlmodel import Session

from monitor.entities.label import GroundTruthLabel
from tests.factories import model_payload, record


@pytest.fixture
def labels_url(client: TestClient, admin: dict[str, str]) -> str:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    return "/api/v1/models/churn/labels"


def _labels(engine: Engine) -> dict[str, object]:
    with Session(engine) as session:
        rows = session.execute(select(GroundTruthLabel.request_id, GroundTruthLabel.value))
        return dict(rows.tuples().all())


def test_labels_are_stored_by_request_id(
    client: TestClient, labels_url: str, ingest: dict[str, str], engine: Engine
) -> None:
    body = {"labels": [{"request_id": "a", "label": 1}, {"request_id": "b", "label": "0"}]}
    reply = client.post(labels_url, json=body, headers=ingest)
    assert reply.status_code == 202
    assert reply.json() == {"accepted": 2, "updated": 0, "unmatched": 2}
    assert _labels(engine) == {"a": "1", "b": "0"}


def test_a_later_label_corrects_the_earlier_one(
    client: TestClient, labels_url: str, ingest: dict[str, str], engine: Engine
) -> None:
    client.post(labels_url, json={"labels": [{"request_id": "a", "label": 1}]}, headers=ingest)
    reply = client.post(
        labels_url, json={"labels": [{"request_id": "a", "label": 0}]}, headers=ingest
    )
    assert reply.json() == {"accepted": 0, "updated": 1, "unmatched": 1}
    assert _labels(engine) == {"a": "0"}


def test_last_label_wins_within_one_batch(
    client: TestClient, labels_url: str, ingest: dict[str, str], engine: Engine
) -> None:
    body = {"labels": [{"request_id": "a", "label": 1}, {"request_id": "a", "label": 0}]}
    client.post(labels_url, json=body, headers=ingest)
    assert _labels(engine) == {"a": "0"}


def test_label_outside_the_classes_refuses_the_batch(
    client: TestClient, labels_url: str, ingest: dict[str, str], engine: Engine
) -> None:
    body = {"labels": [{"request_id": "a", "label": 1}, {"request_id": "b", "label": "cat"}]}
    reply = client.post(labels_url, json=body, headers=ingest)
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"] == ["body", "labels", 1, "label"]
    assert _labels(engine) == {}


def test_regression_labels_must_be_numbers(
    client: TestClient, admin: dict[str, str], ingest: dict[str, str]
) -> None:
    client.post("/api/v1/models", json=model_payload("price", task="regression"), headers=admin)
    body = {"labels": [{"request_id": "a", "label": "high"}]}
    reply = client.post("/api/v1/models/price/labels", json=body, headers=ingest)
    assert reply.status_code == 422
    assert "must be a number" in reply.json()["detail"][0]["msg"]


def test_integral_numbers_and_their_text_are_one_integer_class(
    client: TestClient, labels_url: str, ingest: dict[str, str], engine: Engine
) -> None:
    labels = [{"request_id": "a", "label": 1.0}, {"request_id": "b", "label": "0.0"}]
    reply = client.post(labels_url, json={"labels": labels}, headers=ingest)
    assert reply.status_code == 202
    assert _labels(engine) == {"a": "1", "b": "0"}


def test_labels_for_request_ids_without_a_record_are_counted(
    client: TestClient, labels_url: str, ingest: dict[str, str]
) -> None:
    client.post(
        "/api/v1/models/churn/inferences", json={"records": [record("known")]}, headers=ingest
    )
    body = {"labels": [{"request_id": "known", "label": 1}, {"request_id": "stray", "label": 0}]}
    reply = client.post(labels_url, json=body, headers=ingest)
    assert reply.json()["unmatched"] == 1
