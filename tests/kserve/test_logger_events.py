"""KServe's payload logger: request and response CloudEvents joined by ce-id into the records
the inferences API would store, in either order, repeated or not, v1 and v2."""

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from monitor.entities.inference import InferenceRecord
from monitor.entities.kserve_pair import PendingPair
from monitor.services.kserve_events import expire_unpaired
from monitor.settings import Settings
from monitor.store.types import utc_now
from tests.factories import model_payload
from tests.kserve_events import (
    REQUEST,
    REQUEST_TIME,
    RESPONSE,
    kserve_event,
    v1_request,
    v1_response,
    v2_request,
    v2_response,
    v2_tensor,
)

EVENTS = "/api/v1/kserve/events"
# Checks made before the store is touched: run on one store only, to keep the suite short.
before_the_store = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
PENDING = "/api/v1/models/churn/kserve/pending"


@pytest.fixture
def churn(client: TestClient, admin: dict[str, str]) -> None:
    payload = model_payload(class_labels=["0", "1"])
    assert client.post("/api/v1/models", json=payload, headers=admin).status_code == 201


def _post(
    client: TestClient, auth: dict[str, str], event: tuple[dict[str, str], bytes], url: str = EVENTS
) -> Any:
    headers, body = event
    return client.post(url, content=body, headers={**headers, **auth})


def _records(engine: Engine) -> list[InferenceRecord]:
    with Session(engine) as session:
        return list(session.exec(select(InferenceRecord).order_by(col(InferenceRecord.id))))


def test_request_then_response_lands_one_record_with_the_call_s_values(
    client: TestClient, churn: None, ingest: dict[str, str], engine: Engine
) -> None:
    request = kserve_event(REQUEST, "call-1", v1_request([41, "pro", False]))
    assert _post(client, ingest, request).json()["outcome"] == "waiting"
    reply = _post(client, ingest, kserve_event(RESPONSE, "call-1", v1_response(0.73)))
    assert (reply.status_code, reply.json()) == (
        200,
        {"outcome": "landed", "accepted": 1, "duplicates": 0},
    )
    [stored] = _records(engine)
    assert stored.request_id == "call-1"
    assert stored.features == {"age": 41, "plan": "pro", "vip": False}
    assert stored.prediction == 0.73
    assert stored.timestamp == REQUEST_TIME
    assert stored.latency_ms == pytest.approx(12.0)
    assert (stored.variant, stored.status_code) == ("stable", 200)


def test_response_before_its_request_waits_in_the_store_and_is_reported(
    client: TestClient, churn: None, ingest: dict[str, str], reader: dict[str, str], engine: Engine
) -> None:
    response = kserve_event(RESPONSE, "late", v1_response(1), endpoint="canary")
    assert _post(client, ingest, response).json()["outcome"] == "waiting"
    status = client.get(PENDING, headers=reader).json()
    assert (status["waiting_responses"], status["waiting_requests"]) == (1, 0)
    request = kserve_event(REQUEST, "late", v1_request({"age": 30, "vip": True}), endpoint="canary")
    assert _post(client, ingest, request).json()["accepted"] == 1
    [stored] = _records(engine)
    assert (stored.prediction, stored.variant, stored.features["plan"]) == ("1", "canary", None)
    assert client.get(PENDING, headers=reader).json()["waiting_responses"] == 0


def test_v2_batch_tensor_lands_one_record_per_row_with_ids_from_ce_id(
    client: TestClient, churn: None, ingest: dict[str, str], engine: Engine
) -> None:
    features = v2_tensor("input-0", [2, 3], "BYTES", [[41, "pro", True], [19, "free", False]])
    probabilities = v2_tensor("probabilities", [2, 2], "FP32", [0.2, 0.8, 0.9, 0.1])
    _post(client, ingest, kserve_event(REQUEST, "batch", v2_request(features)))
    landed = _post(
        client, ingest, kserve_event(RESPONSE, "batch", v2_response(probabilities, version="3"))
    )
    assert landed.json()["accepted"] == 2
    stored = _records(engine)
    assert [r.request_id for r in stored] == ["batch#0", "batch#1"]
    assert [r.prediction for r in stored] == [{"0": 0.2, "1": 0.8}, {"0": 0.9, "1": 0.1}]
    assert stored[1].features == {"age": 19, "plan": "free", "vip": False}
    assert {r.model_version for r in stored} == {"3"}


def test_v2_inputs_named_per_feature_map_to_those_features(
    client: TestClient, churn: None, ingest: dict[str, str], engine: Engine
) -> None:
    inputs = (
        v2_tensor("vip", [2, 1], "BOOL", [[True], [False]]),
        v2_tensor("age", [2], "INT64", [50, 60]),
        v2_tensor("plan", [2], "BYTES", ["pro", "free"]),
    )
    _post(client, ingest, kserve_event(REQUEST, "named", v2_request(*inputs)))
    label = v2_tensor("predict", [2], "INT64", [1, 0])
    _post(client, ingest, kserve_event(RESPONSE, "named", v2_response(label)))
    stored = _records(engine)
    assert [r.features for r in stored] == [
        {"age": 50, "plan": "pro", "vip": True},
        {"age": 60, "plan": "free", "vip": False},
    ]
    assert [r.prediction for r in stored] == ["1", "0"]


def test_repeated_events_store_each_record_once_and_leave_nothing_waiting(
    client: TestClient, churn: None, ingest: dict[str, str], engine: Engine
) -> None:
    request = kserve_event(REQUEST, "again", v1_request([41, "pro", False]))
    response = kserve_event(RESPONSE, "again", v1_response(0.5))
    outcomes = [_post(client, ingest, e).json()["outcome"] for e in (request, request, response)]
    outcomes += [_post(client, ingest, e).json()["outcome"] for e in (response, request)]
    assert outcomes == ["waiting", "duplicate", "landed", "duplicate", "duplicate"]
    assert len(_records(engine)) == 1
    with Session(engine) as session:
        assert session.exec(select(PendingPair)).all() == []


def test_request_that_does_not_fit_the_schema_is_refused_naming_the_feature(
    client: TestClient, churn: None, ingest: dict[str, str], engine: Engine
) -> None:
    request = kserve_event(REQUEST, "bad", v1_request([41, "pro", False], ["old", "pro", True]))
    reply = _post(client, ingest, request)
    assert reply.status_code == 422
    assert reply.json()["detail"] == [
        {
            "loc": ["body", "instances", 1, "features", "age"],
            "msg": "a numerical feature must be a number, got str 'old'",
            "type": "type_error",
        }
    ]
    with Session(engine) as session:
        assert session.exec(select(PendingPair)).all() == []


@before_the_store
@pytest.mark.parametrize(
    ("data", "loc", "words"),
    [
        (v1_request([1, "pro"]), ["body", "instances", 0], "a list of 3 values"),
        (
            v2_request(v2_tensor("height", [1], "FP32", [1.8])),
            ["body", "inputs"],
            "not features of this model",
        ),
        (
            v2_request(v2_tensor("input-0", [1, 3], "FP32", [1.0, 2.0])),
            ["body", "inputs", 0, "data"],
            "needs 3 values, got 2",
        ),
        ({"text": "hello"}, ["body"], "`instances`"),
    ],
)
def test_request_payload_of_the_wrong_shape_gets_a_422_naming_the_field(
    client: TestClient,
    churn: None,
    ingest: dict[str, str],
    data: dict[str, Any],
    loc: list[Any],
    words: str,
) -> None:
    reply = _post(client, ingest, kserve_event(REQUEST, "shape", data))
    assert reply.status_code == 422
    [problem] = reply.json()["detail"]
    assert problem["loc"] == loc
    assert words in problem["msg"]


def test_several_v2_outputs_need_the_output_named_on_the_url(
    client: TestClient, churn: None, ingest: dict[str, str], engine: Engine
) -> None:
    outputs = (
        v2_tensor("predict", [1], "INT64", [1]),
        v2_tensor("predict_proba", [1, 2], "FP64", [0.3, 0.7]),
    )
    response = kserve_event(RESPONSE, "two", v2_response(*outputs))
    refused = _post(client, ingest, response)
    assert refused.status_code == 422
    assert "?output=<name>" in refused.json()["detail"][0]["msg"]
    _post(client, ingest, response, url=f"{EVENTS}?output=predict_proba")
    _post(client, ingest, kserve_event(REQUEST, "two", v1_request([41, "pro", False])))
    [stored] = _records(engine)
    assert stored.prediction == {"0": 0.3, "1": 0.7}


def test_the_path_names_the_model_when_the_event_does_not(
    client: TestClient, churn: None, ingest: dict[str, str], engine: Engine
) -> None:
    url = "/api/v1/models/churn/kserve/events"
    for kind, data in ((REQUEST, v1_request([41, "pro", False])), (RESPONSE, v1_response(0.1))):
        _post(client, ingest, kserve_event(kind, "routed", data, service="isvc-name"), url=url)
    assert [r.request_id for r in _records(engine)] == ["routed"]


@before_the_store
def test_unknown_inference_service_is_a_404_naming_it(
    client: TestClient, churn: None, ingest: dict[str, str]
) -> None:
    event = kserve_event(REQUEST, "x", v1_request([41, "pro", False]), service="fraud")
    reply = _post(client, ingest, event)
    assert reply.status_code == 404
    assert "fraud" in reply.json()["detail"]


@before_the_store
@pytest.mark.parametrize(
    ("drop", "set_to", "words"),
    [
        ("ce-specversion", None, "binary content mode"),
        ("ce-type", "com.example.other", "not a KServe inference event"),
        ("ce-id", "", "ce-id must be"),
        ("ce-time", "yesterday", "RFC 3339"),
    ],
)
def test_request_that_is_not_a_kserve_cloudevent_is_a_400_naming_the_header(
    client: TestClient,
    churn: None,
    ingest: dict[str, str],
    drop: str,
    set_to: str | None,
    words: str,
) -> None:
    headers, body = kserve_event(REQUEST, "h", v1_request([41, "pro", False]))
    headers.pop(drop)
    if set_to is not None:
        headers[drop] = set_to
    reply = client.post(EVENTS, content=body, headers={**headers, **ingest})
    assert reply.status_code == 400
    assert words in reply.json()["detail"]


def test_the_key_as_basic_auth_password_is_accepted_as_kserve_sends_it(
    client: TestClient, churn: None, ingest: dict[str, str], engine: Engine
) -> None:
    key = ingest["Authorization"].removeprefix("Bearer ")
    headers, body = kserve_event(REQUEST, "basic", v1_request([41, "pro", False]))
    refused = client.post(EVENTS, content=body, headers=headers)
    assert refused.status_code == 401
    accepted = client.post(EVENTS, content=body, headers=headers, auth=("kserve", key))
    assert accepted.json()["outcome"] == "waiting"


def test_halves_that_wait_too_long_are_dropped_and_counted(
    client: TestClient,
    churn: None,
    ingest: dict[str, str],
    reader: dict[str, str],
    engine: Engine,
    settings: Settings,
) -> None:
    _post(client, ingest, kserve_event(RESPONSE, "orphan", v1_response(0.2)))
    _post(client, ingest, kserve_event(REQUEST, "lonely", v1_request([41, "pro", False])))
    assert expire_unpaired(engine=engine, settings=settings, now=utc_now()) == 0
    later = utc_now() + timedelta(seconds=settings.kserve_pair_wait_seconds + 1)
    assert expire_unpaired(engine=engine, settings=settings, now=later) == 2
    status = client.get(PENDING, headers=reader).json()
    assert status["waiting_requests"] == status["waiting_responses"] == 0
    assert (status["expired_requests"], status["expired_responses"]) == (1, 1)
