"""Stored secrets are Fernet tokens under MONITOR_SECRET_KEYS, and rotate to a new key."""

from pathlib import Path

from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from monitor.settings import DEVELOPMENT_SECRET_KEY
from tests.cli import run_monitor
from tests.factories import model_payload

SLACK_URL = "https://hooks.slack.com/services/T000/B000/supersecretpath"
TOKEN = "hf_secretvalue_at_rest_9876"


def _raw(engine: Engine, query: str) -> str:
    with engine.connect() as connection:
        return str(connection.execute(text(query)).scalar_one())


def _store_secrets(client: TestClient, admin: dict[str, str]) -> None:
    channel = {"name": "team", "kind": "slack", "secrets": {"webhook_url": SLACK_URL}}
    assert client.post("/api/v1/channels", json=channel, headers=admin).status_code == 201
    client.post("/api/v1/models", json=model_payload("churn"), headers=admin)
    pipeline = {"kind": "command", "command": "true", "env": {"HF_TOKEN": TOKEN}}
    reply = client.put("/api/v1/models/churn/pipeline", json=pipeline, headers=admin)
    assert reply.status_code == 200


def test_channel_secrets_and_pipeline_env_are_stored_as_fernet_tokens(
    client: TestClient, admin: dict[str, str], engine: Engine
) -> None:
    _store_secrets(client, admin)
    stored_secrets = _raw(engine, "SELECT secrets FROM channel")
    stored_config = _raw(engine, "SELECT config FROM retraining_pipeline")
    assert "supersecretpath" not in stored_secrets
    assert TOKEN not in stored_config
    cipher = Fernet(DEVELOPMENT_SECRET_KEY)
    assert SLACK_URL in cipher.decrypt(stored_secrets.encode()).decode()
    assert TOKEN in cipher.decrypt(stored_config.encode()).decode()


def test_rotation_reencrypts_every_secret_under_the_new_first_key(
    client: TestClient, admin: dict[str, str], engine: Engine, database_url: str, tmp_path: Path
) -> None:
    _store_secrets(client, admin)
    new_key = Fernet.generate_key().decode()
    rotated = run_monitor(
        "secrets",
        "rotate",
        cwd=tmp_path,
        database_url=database_url,
        extra_env={"MONITOR_SECRET_KEYS": f"{new_key},{DEVELOPMENT_SECRET_KEY}"},
    )
    assert "2 channel(s) and pipeline(s)" in rotated.stdout
    only_new = Fernet(new_key)
    assert SLACK_URL in only_new.decrypt(_raw(engine, "SELECT secrets FROM channel")).decode()
    assert (
        TOKEN in only_new.decrypt(_raw(engine, "SELECT config FROM retraining_pipeline")).decode()
    )
