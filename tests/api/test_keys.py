"""Managing API keys: issued, listed with their last use, revoked, rotated, expired."""

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlmodel import Session

from monitor.entities.api_key import ApiKey
from monitor.settings import Settings
from monitor.store.types import utc_now
from tests.cli import run_monitor

KEYS = "/api/v1/keys"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Every request checks its key against the store: revocation shows at once.
    return settings.model_copy(update={"api_key_cache_seconds": 0})


@pytest.fixture
def issued(client: TestClient, admin: dict[str, str]) -> dict[str, str]:
    reply = client.post(KEYS, json={"scope": "read", "name": "grafana"}, headers=admin)
    assert reply.status_code == 201, reply.text
    body: dict[str, str] = reply.json()
    return body


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_an_issued_key_is_listed_with_its_last_use_and_never_its_secret(
    client: TestClient, admin: dict[str, str], issued: dict[str, str]
) -> None:
    assert client.get("/api/v1/models", headers=_bearer(issued["key"])).status_code == 200
    reply = client.get(KEYS, headers=admin)
    [listed] = [k for k in reply.json()["data"] if k["prefix"] == issued["prefix"]]
    assert listed["scope"] == "read" and listed["name"] == "grafana"
    assert listed["last_used_at"] is not None
    assert issued["key"] not in reply.text and "key_hash" not in reply.text


def test_a_revoked_key_is_refused(
    client: TestClient, admin: dict[str, str], issued: dict[str, str]
) -> None:
    revoked = client.post(f"{KEYS}/{issued['prefix']}/revoke", headers=admin)
    assert revoked.json()["revoked_at"] is not None
    assert client.get("/api/v1/models", headers=_bearer(issued["key"])).status_code == 401


def test_rotation_gives_a_working_key_and_revokes_the_old_one(
    client: TestClient, admin: dict[str, str], issued: dict[str, str]
) -> None:
    rotated = client.post(f"{KEYS}/{issued['prefix']}/rotate", headers=admin).json()
    assert rotated["scope"] == "read" and rotated["name"] == "grafana"
    assert client.get("/api/v1/models", headers=_bearer(rotated["key"])).status_code == 200
    assert client.get("/api/v1/models", headers=_bearer(issued["key"])).status_code == 401


def test_an_expired_key_is_refused(
    client: TestClient, admin: dict[str, str], engine: Engine
) -> None:
    issued = client.post(KEYS, json={"scope": "read", "expires_in_days": 1}, headers=admin).json()
    assert client.get("/api/v1/models", headers=_bearer(issued["key"])).status_code == 200
    with Session(engine) as session:
        past = utc_now() - timedelta(seconds=1)
        session.exec(
            update(ApiKey).where(ApiKey.prefix == issued["prefix"]).values(expires_at=past)
        )  # type: ignore[call-overload]
        session.commit()
    assert client.get("/api/v1/models", headers=_bearer(issued["key"])).status_code == 401


def test_revoking_an_unknown_key_names_the_listing(
    client: TestClient, admin: dict[str, str]
) -> None:
    reply = client.post(f"{KEYS}/nothere/revoke", headers=admin)
    assert reply.status_code == 404
    assert "GET /api/v1/keys" in reply.json()["detail"]


def test_a_read_key_cannot_manage_keys(client: TestClient, reader: dict[str, str]) -> None:
    assert client.get(KEYS, headers=reader).status_code == 403


def test_cli_lists_rotates_and_revokes_keys(database_url: str, tmp_path: Path) -> None:
    def monitor(*args: str) -> str:
        return run_monitor(*args, cwd=tmp_path, database_url=database_url).stdout

    created = monitor("keys", "create", "--scope", "ingest", "--name", "sidecar")
    prefix = created.split()[3]
    rotated = monitor("keys", "rotate", prefix).strip().splitlines()
    new_prefix = rotated[-1].split("_")[1]
    monitor("keys", "revoke", new_prefix)
    listing = monitor("keys", "list")
    rows = {line.split("\t")[0]: line for line in listing.strip().splitlines()}
    assert "revoked -" not in rows[prefix] and "revoked -" not in rows[new_prefix]
    assert "sidecar" in rows[new_prefix]
