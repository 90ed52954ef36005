"""Test notifications and the delivery log through the API."""

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from standardwebhooks import Webhook

from monitor.entities.event import EventType, Severity
from monitor.settings import Settings
from tests.notifications.helpers import SECRET, add_event, add_webhook, pass_at
from tests.notifications.receiver import Answer, Receiver


def test_test_notification_is_sent_now_and_returns_the_attempt(
    client: TestClient, admin: dict[str, str], engine: Engine, receiver: Receiver
) -> None:
    add_webhook(engine, receiver.url)
    reply = client.post("/api/v1/channels/hook/test", headers=admin)
    assert reply.status_code == 200
    body = reply.json()
    assert (body["attempt"]["outcome"], body["attempt"]["status_code"]) == ("delivered", 200)
    assert body["delivery"]["status"] == "delivered"
    (request,) = receiver.requests
    sent = Webhook(SECRET).verify(request.body, request.headers)
    assert (sent["type"], sent["data"]["channel"]) == ("notification.test", "hook")


def test_a_failed_test_notification_is_tried_once_and_says_why(
    client: TestClient, admin: dict[str, str], engine: Engine, receiver: Receiver
) -> None:
    receiver.script = lambda _: Answer(500, body=b"kaput")
    add_webhook(engine, receiver.url)
    body = client.post("/api/v1/channels/hook/test", headers=admin).json()
    assert body["attempt"]["error"] == "HTTP 500 Internal Server Error"
    assert body["delivery"]["status"] == "dead"
    assert len(receiver.requests) == 1


def test_test_notification_to_an_unknown_channel_is_404(
    client: TestClient, admin: dict[str, str]
) -> None:
    assert client.post("/api/v1/channels/nope/test", headers=admin).status_code == 404


def test_deliveries_filter_by_channel_event_and_status_with_their_attempts(
    client: TestClient,
    admin: dict[str, str],
    reader: dict[str, str],
    engine: Engine,
    settings: Settings,
    receiver: Receiver,
) -> None:
    receiver.routes["/gone"] = Answer(404)
    add_webhook(engine, receiver.url + "/gone")
    add_webhook(engine, receiver.url, name="other")
    refused = add_event(engine, dedup_key="a")
    pass_at(engine, settings, datetime.now(UTC))
    dead = client.get(
        "/api/v1/deliveries", params={"channel": "hook", "status": "dead"}, headers=reader
    ).json()
    assert dead["count"] == 1 and dead["data"][0]["event_id"] == refused
    by_event = client.get("/api/v1/deliveries", params={"event": refused}, headers=reader).json()
    assert sorted(d["channel"] for d in by_event["data"]) == ["hook", "other"]
    detail = client.get(f"/api/v1/deliveries/{dead['data'][0]['id']}", headers=reader).json()
    assert [(a["number"], a["status_code"], a["outcome"]) for a in detail["attempt_log"]] == [
        (1, 404, "failed")
    ]


def test_redelivery_through_the_api_queues_the_delivery(
    client: TestClient,
    admin: dict[str, str],
    engine: Engine,
    settings: Settings,
    receiver: Receiver,
) -> None:
    receiver.script = lambda _: Answer(400)
    add_webhook(engine, receiver.url)
    add_event(engine)
    pass_at(engine, settings, datetime.now(UTC))
    delivery = client.get("/api/v1/deliveries", headers=admin).json()["data"][0]
    queued = client.post(f"/api/v1/deliveries/{delivery['id']}/redeliver", headers=admin)
    assert queued.status_code == 202
    assert (queued.json()["status"], queued.json()["note"]) == (
        "pending",
        "redelivery requested (was dead)",
    )
    again = client.post(f"/api/v1/deliveries/{delivery['id']}/redeliver", headers=admin)
    assert again.status_code == 409


def test_events_filter_by_minimum_severity(
    client: TestClient, reader: dict[str, str], engine: Engine
) -> None:
    add_event(engine, severity=Severity.INFO)
    serious = add_event(engine, EventType.RUN_FAILED, severity=Severity.ERROR)
    found = client.get("/api/v1/events", params={"min_severity": "warning"}, headers=reader)
    assert [e["id"] for e in found.json()["data"]] == [serious]
