"""Channels through the API: created per kind with their secrets checked, read back masked,
changed, deleted; errors name the field and the fix and never repeat a secret."""

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from monitor.entities.channel import CHANNEL_FIELDS
from monitor.services.channels import KINDS, get_channel
from triggers.notifications.webhook import new_secret

SLACK_URL = "https://hooks.slack.com/services/T0001/B0001/abcdefSECRETxyz"
ROUTING_KEY = "R0123456789abcdef0123456789ABCDE"


def slack(**overrides: Any) -> dict[str, Any]:
    return {"name": "team", "kind": "slack", "secrets": {"webhook_url": SLACK_URL}, **overrides}


def test_created_channel_reads_back_with_kind_defaults(
    client: TestClient, admin: dict[str, str]
) -> None:
    created = client.post("/api/v1/channels", json=slack(), headers=admin)
    assert created.status_code == 201
    body = client.get("/api/v1/channels/team", headers=admin).json()
    assert body["rate_limit_per_second"] == 1.0
    assert body["filters"] == {"event_types": [], "models": [], "min_severity": "info"}
    assert body["grouping"] == {
        "group_wait_seconds": 30.0,
        "group_interval_seconds": 300.0,
        "repeat_interval_seconds": 14400.0,
    }


def test_pagerduty_channel_pages_from_warning_by_default(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = {"name": "oncall", "kind": "pagerduty", "secrets": {"routing_key": ROUTING_KEY}}
    created = client.post("/api/v1/channels", json=body, headers=admin).json()
    assert created["filters"]["min_severity"] == "warning"
    assert created["rate_limit_per_second"] == 2.0


def test_secrets_are_masked_in_every_answer(client: TestClient, admin: dict[str, str]) -> None:
    secret = new_secret()
    body = {
        "name": "hook",
        "kind": "webhook",
        "secrets": {"url": "https://example.com/hook?token=abc123", "signing_secret": secret},
    }
    answers = [
        client.post("/api/v1/channels", json=body, headers=admin),
        client.get("/api/v1/channels", headers=admin),
        client.get("/api/v1/channels/hook", headers=admin),
        client.patch("/api/v1/channels/hook", json={"enabled": False}, headers=admin),
    ]
    for answer in answers:
        assert secret not in answer.text and "abc123" not in answer.text
    assert answers[2].json()["secrets"] == {
        "url": "https://example.com/****",
        "signing_secret": "****" + secret[-4:],
    }


def test_slack_channel_without_a_webhook_url_names_the_field_and_the_fix(
    client: TestClient, admin: dict[str, str]
) -> None:
    reply = client.post("/api/v1/channels", json=slack(secrets={}), headers=admin)
    assert reply.status_code == 422
    detail = reply.json()["detail"][0]
    assert detail["loc"] == ["body", "secrets.webhook_url"]
    assert "secrets.webhook_url is required for a slack channel" in detail["msg"]
    assert "Incoming Webhook URL" in detail["msg"]


def test_a_malformed_secret_is_refused_without_repeating_it(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = {"name": "oncall", "kind": "pagerduty", "secrets": {"routing_key": "short-Secret-99"}}
    reply = client.post("/api/v1/channels", json=body, headers=admin)
    assert reply.status_code == 422
    assert "secrets.routing_key is invalid (not 32 letters and digits)" in reply.text
    assert "short-Secret-99" not in reply.text


def test_a_secret_another_kind_takes_is_refused_with_the_right_names(
    client: TestClient, admin: dict[str, str]
) -> None:
    secrets = {"webhook_url": SLACK_URL, "routing_key": ROUTING_KEY}
    reply = client.post("/api/v1/channels", json=slack(secrets=secrets), headers=admin)
    assert reply.status_code == 422
    assert "secrets.routing_key is not a setting of a slack channel; it takes: webhook_url" in (
        reply.text
    )


def test_unknown_event_type_in_filters_is_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    filters = {"event_types": ["drift.exploded"]}
    reply = client.post("/api/v1/channels", json=slack(filters=filters), headers=admin)
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"][-3:] == ["filters", "event_types", 0]


def test_update_merges_secrets_and_options(client: TestClient, admin: dict[str, str]) -> None:
    body = {"name": "oncall", "kind": "pagerduty", "secrets": {"routing_key": ROUTING_KEY}}
    client.post("/api/v1/channels", json=body, headers=admin)
    change = {"options": {"source": "ml-platform"}, "grouping": {"group_wait_seconds": 0}}
    updated = client.patch("/api/v1/channels/oncall", json=change, headers=admin).json()
    assert updated["options"] == {"source": "ml-platform"}
    assert updated["secrets"] == {"routing_key": "****" + ROUTING_KEY[-4:]}
    assert updated["grouping"]["group_wait_seconds"] == 0
    reset = {"options": {"source": None}}
    assert (
        client.patch("/api/v1/channels/oncall", json=reset, headers=admin).json()["options"] == {}
    )


def test_a_second_channel_of_the_same_name_is_a_conflict(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/api/v1/channels", json=slack(), headers=admin)
    again = client.post("/api/v1/channels", json=slack(), headers=admin)
    assert again.status_code == 409
    assert "PATCH /api/v1/channels/team" in again.json()["detail"]


def test_deleted_channel_is_gone(client: TestClient, admin: dict[str, str]) -> None:
    client.post("/api/v1/channels", json=slack(), headers=admin)
    assert client.delete("/api/v1/channels/team", headers=admin).status_code == 204
    missing = client.get("/api/v1/channels/team", headers=admin)
    assert missing.status_code == 404
    assert "POST /api/v1/channels" in missing.json()["detail"]


def test_channels_are_configured_with_an_admin_key_and_read_with_a_read_key(
    client: TestClient, reader: dict[str, str]
) -> None:
    assert client.post("/api/v1/channels", json=slack(), headers=reader).status_code == 403
    assert client.get("/api/v1/channels", headers=reader).status_code == 200


def test_deliveries_are_readable_with_a_read_key(
    client: TestClient, reader: dict[str, str]
) -> None:
    reply = client.get("/api/v1/deliveries", headers=reader)
    assert reply.status_code == 200
    assert reply.json() == {"data": [], "count": 0}


def test_redelivering_an_unknown_delivery_is_404(client: TestClient, admin: dict[str, str]) -> None:
    reply = client.post("/api/v1/deliveries/999/redeliver", headers=admin)
    assert reply.status_code == 404
    assert "GET /api/v1/deliveries" in reply.json()["detail"]


def test_a_stored_channel_leaves_its_secrets_out_of_its_repr(
    client: TestClient, admin: dict[str, str], engine: Engine
) -> None:
    client.post("/api/v1/channels", json=slack(), headers=admin)
    with Session(engine) as session:
        channel = get_channel(session=session, name="team")
    assert channel.secrets == {"webhook_url": SLACK_URL}
    assert "SECRET" not in repr(channel)


def test_a_bad_signing_secret_is_refused_with_how_to_make_one(
    client: TestClient, admin: dict[str, str]
) -> None:
    secrets = {"url": "https://example.com/hook", "signing_secret": "hunter2hunter2"}
    body = {"name": "hook", "kind": "webhook", "secrets": secrets}
    detail = client.post("/api/v1/channels", json=body, headers=admin).json()["detail"][0]
    assert detail["msg"].startswith(
        "secrets.signing_secret is invalid (a signing secret starts with 'whsec_'); give whsec_"
    )
    assert "hunter2" not in detail["msg"]


def test_a_url_with_a_broken_port_is_refused(client: TestClient, admin: dict[str, str]) -> None:
    secrets = {"webhook_url": "https://hooks.slack.com:99999/services/x"}
    reply = client.post("/api/v1/channels", json=slack(secrets=secrets), headers=admin)
    assert reply.status_code == 422
    assert "its port is not a number from 0 to 65535" in reply.text


def test_a_url_with_a_control_character_is_refused_before_any_send(
    client: TestClient, admin: dict[str, str]
) -> None:
    """It used to be stored, and the test send then failed inside httpx with a 500."""
    secrets = {"webhook_url": "https://hooks.slack.com/\x1dservices/x"}
    reply = client.post("/api/v1/channels", json=slack(secrets=secrets), headers=admin)
    assert reply.status_code == 422
    assert "control characters" in reply.json()["detail"][0]["msg"]


def test_the_published_channel_schema_names_each_kinds_own_secrets_and_options() -> None:
    for kind, spec in KINDS.items():
        assert set(CHANNEL_FIELDS[kind]["secrets"]) == set(spec.secrets), kind
        assert set(CHANNEL_FIELDS[kind]["options"]) == set(spec.options), kind
