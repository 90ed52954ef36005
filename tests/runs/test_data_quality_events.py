"""`data_quality.*` events from real monitor runs: a never-seen category raises its own event once,
with its share and escaped examples, stays quiet while it lasts, resolves when it goes, and
reaches a channel that subscribes to it; one row of a new category raises nothing."""

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from monitor.entities.delivery import Delivery
from monitor.notifications.fanout import fan_out
from monitor.scheduling import jobs
from monitor.store.types import utc_now
from tests.factories import drift_frame, drift_model_payload, records_from, upload_reference

MODEL = "/api/v1/models/scored"
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
NEW_REGION = "atlantis\n<b>"


@pytest.fixture
def monitored(client: TestClient, admin: dict[str, str], database_url: str) -> TestClient:
    jobs.bind(database_url)
    client.post("/api/v1/models", json=drift_model_payload(), headers=admin)
    upload_reference(client, admin, drift_frame(5_000, seed=1))
    body = {"window": {"duration": "1h"}, "min_rows": 500}
    assert client.post(f"{MODEL}/monitors", json=body, headers=admin).status_code == 201
    return client


def _send_window(client: TestClient, headers: dict[str, str], hour: int, new_share: float) -> None:
    """1,000 reference-like rows in the hour's window, `new_share` of them in a new region."""
    frame = drift_frame(1_000, seed=10 + hour)
    frame.loc[: int(new_share * 1_000) - 1, "region"] = NEW_REGION
    records = records_from(frame, f"h{hour}")
    for record in records:
        record["timestamp"] = (START + timedelta(hours=hour, minutes=30)).isoformat()
    reply = client.post(f"{MODEL}/inferences", json={"records": records}, headers=headers)
    assert reply.status_code == 202, reply.text


def _run_windows(client: TestClient, headers: dict[str, str], shares: list[float]) -> None:
    for hour, share in enumerate(shares):
        _send_window(client, headers, hour, share)
    for hour in range(len(shares)):
        end = START + timedelta(hours=hour + 1)
        client.post(
            f"{MODEL}/monitors/drift/runs", json={"window_end": end.isoformat()}, headers=headers
        )
        assert jobs.drain_queue() == 1


def _events(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    reply = client.get(
        "/api/v1/events",
        params={"type": ["data_quality.new_category", "data_quality.resolved"]},
        headers=headers,
    )
    return list(reversed(reply.json()["data"]))


def test_a_new_category_raises_one_event_while_it_lasts_and_a_resolution_when_it_goes(
    monitored: TestClient, admin: dict[str, str], database_url: str
) -> None:
    channel = {
        "name": "data-hook",
        "kind": "webhook",
        "secrets": {
            "url": "http://127.0.0.1:9/hook",
            "signing_secret": "whsec_" + base64.b64encode(b"k" * 32).decode(),
        },
        "filters": {"event_types": ["data_quality.new_category", "data_quality.resolved"]},
    }
    reply = monitored.post("/api/v1/channels", json=channel, headers=admin)
    assert reply.status_code == 201, reply.text
    _run_windows(monitored, admin, [0.0, 0.1, 0.1, 0.0])
    found = _events(monitored, admin)
    assert [(e["type"], e["data"]["window"]["end"][11:16]) for e in found] == [
        ("data_quality.new_category", "11:00"),
        ("data_quality.resolved", "13:00"),
    ]
    data = found[0]["data"]
    assert (data["column"], data["check"], data["share"]) == ("region", "new_category", 0.1)
    assert data["examples"] == [repr(NEW_REGION)]  # escaped: no raw newline or markup
    key = "scored/drift/data_quality/region/new_category"
    assert "model_version" in data and found[0]["dedup_key"] == key
    with Session(jobs.engine_for(database_url)) as session:  # a channel subscribed to the types
        fan_out(session, now=utc_now(), limit=100)
        deliveries = session.exec(select(Delivery).order_by(col(Delivery.id))).all()
        assert [(d.phase, d.group_key) for d in deliveries] == [("firing", key), ("resolved", key)]


def test_one_row_of_a_new_category_is_no_event_and_no_drift(
    monitored: TestClient, admin: dict[str, str]
) -> None:
    _run_windows(monitored, admin, [0.001])
    assert _events(monitored, admin) == []
    runs = monitored.get(f"{MODEL}/runs", headers=admin).json()["data"]
    run = monitored.get(f"{MODEL}/runs/{runs[0]['id']}", headers=admin).json()
    region = next(r for r in run["results"] if r["feature"] == "region")
    check = next(
        q for q in run["quality"] if (q["feature"], q["check"]) == ("region", "new_category")
    )
    assert (region["drifted"], check["count"], check["failed"]) == (False, 1, False)
