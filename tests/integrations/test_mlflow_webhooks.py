"""MLflow registry webhooks: payloads built from MLflow's own webhook types and signed by
MLflow's own signer reach the champion's history and the routing at once; anything not signed
with the stored secret is refused and changes nothing."""

import json
import time
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from mlflow.entities.webhook import WebhookAction, WebhookEntity
from mlflow.webhooks.constants import (
    WEBHOOK_DELIVERY_ID_HEADER,
    WEBHOOK_SIGNATURE_HEADER,
    WEBHOOK_TIMESTAMP_HEADER,
)
from mlflow.webhooks.delivery import _generate_hmac_signature
from mlflow.webhooks.types import ModelVersionAliasCreatedPayload
from sqlalchemy import Engine, text

from tests.factories import endpoint_payload, model_payload

HOOK = "/api/v1/integrations/mlflow/webhook"
SECRET_URL = "/api/v1/integrations/mlflow/webhook-secret"
MODEL = "/api/v1/models/churn"
SECRET = "a-secret-shared-with-mlflow-0123456789"


def delivery(
    payload: Any, secret: str, *, sent_at: float | None = None
) -> tuple[str, dict[str, str]]:
    """The body and headers MLflow's `_send_webhook_request` posts for an alias event."""
    body = json.dumps(
        {
            "entity": WebhookEntity.MODEL_VERSION_ALIAS.value,
            "action": WebhookAction.CREATED.value,
            "timestamp": "2026-12-03T13:00:00+00:00",
            "data": payload,
        }
    )
    delivery_id, stamp = str(uuid.uuid4()), str(int(sent_at or time.time()))
    headers = {
        "Content-Type": "application/json",
        WEBHOOK_DELIVERY_ID_HEADER: delivery_id,
        WEBHOOK_TIMESTAMP_HEADER: stamp,
        WEBHOOK_SIGNATURE_HEADER: _generate_hmac_signature(secret, delivery_id, stamp, body),
    }
    return body, headers


def champion_set(version: str, alias: str = "champion") -> ModelVersionAliasCreatedPayload:
    return ModelVersionAliasCreatedPayload(name="churn", alias=alias, version=version)


@pytest.fixture
def served(client: TestClient, admin: dict[str, str]) -> TestClient:
    """`churn` served by `blue` (version 1, stable) and `green` (version 2), the secret set."""
    assert client.post("/api/v1/models", json=model_payload(), headers=admin).is_success
    for name, url, version in (
        ("blue", "http://127.0.0.1:9001", "1"),
        ("green", "http://127.0.0.1:9002", "2"),
    ):
        body = endpoint_payload(name, url=url, model_version=version)
        assert client.post(f"{MODEL}/endpoints", json=body, headers=admin).status_code == 201
    reply = client.put(SECRET_URL, json={"secret": SECRET}, headers=admin)
    assert reply.status_code == 200, reply.text
    return client


def stable(client: TestClient, headers: dict[str, str]) -> tuple[str | None, str | None]:
    variants = client.get(f"{MODEL}/routing", headers=headers).json()["variants"]
    (variant,) = [v for v in variants if v["name"] == "stable"]
    return variant["model_version"], variant["endpoint"]


def champions(client: TestClient, headers: dict[str, str]) -> list[tuple[str, str]]:
    data = client.get(f"{MODEL}/champions", headers=headers).json()["data"]
    return [(c["model_version"], c["source"]) for c in data]


def test_a_signed_champion_alias_moves_the_champion_and_the_stable_routing_once(
    served: TestClient, admin: dict[str, str]
) -> None:
    assert stable(served, admin) == ("1", "http://127.0.0.1:9001")
    body, headers = delivery(champion_set("2"), SECRET)
    reply = served.post(HOOK, content=body, headers=headers)
    assert reply.status_code == 200, reply.text
    assert reply.json()["outcome"] == "recorded" and reply.json()["models"] == ["churn"]
    assert stable(served, admin) == ("2", "http://127.0.0.1:9002")
    assert champions(served, admin)[-1] == ("2", "registry")
    recorded = champions(served, admin)
    again = served.post(HOOK, content=body, headers=headers)  # MLflow retried the delivery
    assert again.json()["outcome"] == "unchanged"
    assert champions(served, admin) == recorded


# What the store does is checked on both stores above; these refusals happen before it.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("secret", "age", "reason"),
    [("another-secret-not-the-stored-one", 0, "does not match"), (SECRET, 3600, "Unix time")],
)
def test_a_webhook_signed_otherwise_or_replayed_late_is_refused_and_moves_nothing(
    served: TestClient, admin: dict[str, str], secret: str, age: int, reason: str
) -> None:
    before = champions(served, admin)
    body, headers = delivery(champion_set("2"), secret, sent_at=time.time() - age)
    reply = served.post(HOOK, content=body, headers=headers)
    assert reply.status_code == 401 and reason in reply.json()["detail"]
    assert champions(served, admin) == before
    assert stable(served, admin) == ("1", "http://127.0.0.1:9001")


@SQLITE_ONLY
def test_other_aliases_are_acknowledged_and_ignored(
    served: TestClient, admin: dict[str, str]
) -> None:
    body, headers = delivery(champion_set("2", alias="challenger"), SECRET)
    reply = served.post(HOOK, content=body, headers=headers)
    assert (reply.status_code, reply.json()["outcome"]) == (200, "ignored")
    assert stable(served, admin) == ("1", "http://127.0.0.1:9001")


def test_without_a_stored_secret_webhooks_are_refused_naming_the_fix(
    client: TestClient, admin: dict[str, str], engine: Engine
) -> None:
    body, headers = delivery(champion_set("2"), SECRET)
    reply = client.post(HOOK, content=body, headers=headers)
    assert reply.status_code == 401
    assert "PUT /api/v1/integrations/mlflow/webhook-secret" in reply.json()["detail"]
    made = client.put(SECRET_URL, json={}, headers=admin)
    assert made.status_code == 200 and len(made.json()["secret"]) >= 32
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT secret FROM registry_webhook_secret")).scalar()
    assert made.json()["secret"] not in str(stored)  # encrypted at rest
