"""API keys: 401 without a valid key, 403 with the wrong scope."""

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlmodel import Session, select

from monitor.entities.api_key import ApiKey
from tests.factories import batch, model_payload


def test_missing_key_is_401(client: TestClient) -> None:
    reply = client.get("/api/v1/models")
    assert reply.status_code == 401
    assert reply.headers["WWW-Authenticate"] == "Bearer"


def test_wrong_key_is_401(client: TestClient) -> None:
    reply = client.get("/api/v1/models", headers={"Authorization": "Bearer mon_abc_nope"})
    assert reply.status_code == 401


def test_ingest_key_cannot_register_models(client: TestClient, ingest: dict[str, str]) -> None:
    reply = client.post("/api/v1/models", json=model_payload(), headers=ingest)
    assert reply.status_code == 403
    assert reply.json()["detail"] == "this key has scope 'ingest'; this call needs 'admin'"


def test_read_key_cannot_log_inferences(
    client: TestClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    reply = client.post("/api/v1/models/churn/inferences", json=batch(0, 1), headers=reader)
    assert reply.status_code == 403


def test_ingest_key_cannot_query_records(
    client: TestClient, admin: dict[str, str], ingest: dict[str, str]
) -> None:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    assert client.get("/api/v1/models/churn/inferences", headers=ingest).status_code == 403


def test_ingest_key_reads_the_model_schema_and_routing(
    client: TestClient, admin: dict[str, str], ingest: dict[str, str]
) -> None:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    assert client.get("/api/v1/models/churn", headers=ingest).status_code == 200
    assert client.get("/api/v1/models/churn/routing", headers=ingest).status_code == 200


def test_revoked_key_is_refused(client: TestClient, engine: Engine, reader: dict[str, str]) -> None:
    client.app.state.key_cache.ttl = 0  # type: ignore[attr-defined]
    assert client.get("/api/v1/models", headers=reader).status_code == 200
    with Session(engine) as session:
        session.exec(update(ApiKey).values(revoked_at=datetime.now(UTC)))  # type: ignore[call-overload]
        session.commit()
    assert client.get("/api/v1/models", headers=reader).status_code == 401


def test_keys_are_stored_only_as_digests(engine: Engine, admin: dict[str, str]) -> None:
    plaintext = admin["Authorization"].removeprefix("Bearer ")
    with Session(engine) as session:
        stored = session.exec(select(ApiKey)).one()
    assert plaintext not in (stored.key_hash, stored.prefix, stored.name)
    assert len(stored.key_hash) == 64
