"""The rollouts API: starting one (validated, at most one active per model), reading it back,
the manual controls and the routing every change moves."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import endpoint_payload, model_payload, rollout_payload

MODEL = "/api/v1/models/churn"
STABLE_URL, CANDIDATE_URL = "http://127.0.0.1:9001", "http://127.0.0.1:9002"


@pytest.fixture
def endpoints(client: TestClient, admin: dict[str, str]) -> None:
    """Model `churn` with stable endpoint `blue` (version 1) and candidate `green`."""
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    for name, url, version in (("blue", STABLE_URL, "1"), ("green", CANDIDATE_URL, None)):
        reply = client.post(
            f"{MODEL}/endpoints",
            json=endpoint_payload(name, url=url, model_version=version),
            headers=admin,
        )
        assert reply.status_code == 201, reply.text


def start(client: TestClient, admin: dict[str, str], **overrides: Any) -> dict[str, Any]:
    reply = client.post(f"{MODEL}/rollouts", json=rollout_payload(**overrides), headers=admin)
    assert reply.status_code == 201, reply.text
    body: dict[str, Any] = reply.json()
    return body


def routing(client: TestClient, headers: dict[str, str]) -> tuple[str, dict[str, Any]]:
    reply = client.get(f"{MODEL}/routing", headers=headers)
    return reply.headers["ETag"], reply.json()


def act(client: TestClient, admin: dict[str, str], rollout_id: int, action: str) -> Any:
    return client.post(f"{MODEL}/rollouts/{rollout_id}/{action}", headers=admin)


@pytest.mark.usefixtures("endpoints")
def test_a_started_rollout_reads_back_with_its_first_step(
    client: TestClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    started = start(client, admin)
    assert started["state"] == "progressing"
    assert (started["weight"], started["step_index"], started["steps"]) == (5, 0, [5, 25, 50, 100])
    assert (started["stable_endpoint"], started["candidate_endpoint"]) == ("blue", "green")
    assert (started["stable_version"], started["candidate_version"]) == ("1", "2")
    assert started["thresholds"]["max_prediction_psi"] == 0.2
    assert [(t["state"], t["weight"]) for t in started["transitions"]] == [("progressing", 5)]
    read = client.get(f"{MODEL}/rollouts/{started['id']}", headers=reader).json()
    assert read == started


@pytest.mark.usefixtures("endpoints")
def test_the_routing_splits_by_the_rollout_weight_under_a_new_etag(
    client: TestClient, admin: dict[str, str], ingest: dict[str, str]
) -> None:
    etag_before, before = routing(client, ingest)
    start(client, admin)
    etag, split = routing(client, ingest)
    assert split["variants"] == [
        {
            "name": "stable",
            "model_version": "1",
            "endpoint": STABLE_URL,
            "weight": 95,
            "v2_model_name": None,
        },
        {
            "name": "canary",
            "model_version": "2",
            "endpoint": CANDIDATE_URL,
            "weight": 5,
            "v2_model_name": None,
        },
    ]
    assert split["revision"] > before["revision"]
    assert etag != etag_before
    unchanged = client.get(f"{MODEL}/routing", headers={**ingest, "If-None-Match": etag})
    assert unchanged.status_code == 304


@pytest.mark.usefixtures("endpoints")
def test_a_shadow_phase_copies_traffic_to_the_candidate_at_weight_zero(
    client: TestClient, admin: dict[str, str], ingest: dict[str, str]
) -> None:
    started = start(client, admin, shadow_seconds=30)
    assert (started["state"], started["weight"]) == ("shadowing", 0)
    _, split = routing(client, ingest)
    assert [(v["name"], v["weight"], v["endpoint"]) for v in split["variants"]] == [
        ("stable", 100, STABLE_URL),
        ("shadow", 0, CANDIDATE_URL),
    ]


@pytest.mark.usefixtures("endpoints")
def test_a_second_active_rollout_is_refused(client: TestClient, admin: dict[str, str]) -> None:
    first = start(client, admin)
    again = client.post(f"{MODEL}/rollouts", json=rollout_payload(), headers=admin)
    assert again.status_code == 409
    assert f"already has rollout {first['id']} progressing" in again.json()["detail"]


@pytest.mark.usefixtures("endpoints")
def test_an_unknown_candidate_endpoint_is_refused_naming_the_field(
    client: TestClient, admin: dict[str, str]
) -> None:
    reply = client.post(f"{MODEL}/rollouts", json=rollout_payload("ghost"), headers=admin)
    assert reply.status_code == 422
    detail = reply.json()["detail"][0]
    assert detail["loc"] == ["body", "candidate_endpoint"]
    assert "has no endpoint 'ghost'" in detail["msg"]


@pytest.mark.usefixtures("endpoints")
def test_the_stable_endpoint_cannot_be_the_candidate(
    client: TestClient, admin: dict[str, str]
) -> None:
    reply = client.post(f"{MODEL}/rollouts", json=rollout_payload("blue"), headers=admin)
    assert reply.status_code == 422
    assert "is the stable endpoint" in reply.text


@pytest.mark.usefixtures("endpoints")
@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([5, 25, 50], "the last step must be 100"),
        ([50, 25, 100], "steps must increase"),
        ([0, 100], "from 1 to 100"),
    ],
)
def test_bad_steps_are_refused_with_the_rule(
    client: TestClient, admin: dict[str, str], steps: list[int], message: str
) -> None:
    reply = client.post(f"{MODEL}/rollouts", json=rollout_payload(steps=steps), headers=admin)
    assert reply.status_code == 422
    assert message in reply.text


@pytest.mark.usefixtures("endpoints")
def test_a_threshold_out_of_range_is_refused_naming_it(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = rollout_payload(thresholds={"max_p99_latency_ratio": 0.5})
    reply = client.post(f"{MODEL}/rollouts", json=body, headers=admin)
    assert reply.status_code == 422
    assert "max_p99_latency_ratio" in reply.text


@pytest.mark.usefixtures("endpoints")
def test_pause_keeps_the_split_and_resume_restarts_the_step(
    client: TestClient, admin: dict[str, str], ingest: dict[str, str]
) -> None:
    started = start(client, admin)
    etag, _ = routing(client, ingest)
    paused = act(client, admin, started["id"], "pause").json()
    assert (paused["state"], paused["weight"], paused["reason"]) == ("paused", 5, "paused by hand")
    assert routing(client, ingest)[0] == etag
    resumed = act(client, admin, started["id"], "resume").json()
    assert resumed["state"] == "progressing"
    assert resumed["step_started_at"] > started["step_started_at"]


@pytest.mark.usefixtures("endpoints")
def test_an_action_the_state_does_not_allow_is_409_with_the_reason(
    client: TestClient, admin: dict[str, str]
) -> None:
    started = start(client, admin)
    reply = act(client, admin, started["id"], "resume")
    assert reply.status_code == 409
    assert reply.json()["detail"] == (
        f"rollout {started['id']} of 'churn' is progressing; resume needs it paused"
    )


@pytest.mark.usefixtures("endpoints")
def test_abort_sends_all_traffic_back_to_stable_and_records_an_event(
    client: TestClient, admin: dict[str, str], ingest: dict[str, str], reader: dict[str, str]
) -> None:
    started = start(client, admin)
    _, during = routing(client, ingest)
    aborted = act(client, admin, started["id"], "abort").json()
    assert (aborted["state"], aborted["weight"]) == ("aborted", 0)
    assert aborted["finished_at"] is not None
    _, after = routing(client, ingest)
    assert after["revision"] > during["revision"]
    assert [(v["name"], v["endpoint"], v["weight"]) for v in after["variants"]] == [
        ("stable", STABLE_URL, 100)
    ]
    events = client.get(
        "/api/v1/events", params={"model": "churn", "type": "rollout.aborted"}, headers=reader
    ).json()
    assert events["data"][0]["data"]["rollout_id"] == started["id"]
    assert act(client, admin, started["id"], "pause").status_code == 409


@pytest.mark.usefixtures("endpoints")
def test_after_an_abort_a_new_rollout_may_start(
    client: TestClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    first = start(client, admin)
    act(client, admin, first["id"], "abort")
    second = start(client, admin)
    listed = client.get(f"{MODEL}/rollouts", headers=reader).json()
    assert listed["count"] == 2
    assert [r["id"] for r in listed["data"]] == [second["id"], first["id"]]
    page = client.get(f"{MODEL}/rollouts", params={"limit": 1, "offset": 1}, headers=reader)
    assert [r["id"] for r in page.json()["data"]] == [first["id"]]


@pytest.mark.usefixtures("endpoints")
def test_an_endpoint_in_an_active_rollout_cannot_be_deleted(
    client: TestClient, admin: dict[str, str]
) -> None:
    start(client, admin)
    reply = client.delete(f"{MODEL}/endpoints/green", headers=admin)
    assert reply.status_code == 409
    assert "abort or finish the rollout first" in reply.json()["detail"]


@pytest.mark.usefixtures("endpoints")
def test_an_unknown_rollout_is_404(client: TestClient, reader: dict[str, str]) -> None:
    reply = client.get(f"{MODEL}/rollouts/999/checks", headers=reader)
    assert reply.status_code == 404
    assert "has no rollout 999" in reply.json()["detail"]


@pytest.mark.usefixtures("endpoints")
def test_a_reader_cannot_start_or_act(
    client: TestClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    started = start(client, admin)
    assert (
        client.post(f"{MODEL}/rollouts", json=rollout_payload(), headers=reader).status_code == 403
    )
    assert act(client, reader, started["id"], "abort").status_code == 403
