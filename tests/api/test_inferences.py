"""The sidecar's inference log: idempotent, all-or-nothing batches with precise errors."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from monitor.entities.inference import InferenceRecord
from tests.factories import batch, model_payload, record


@pytest.fixture
def churn(client: TestClient, admin: dict[str, str]) -> str:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    return "/api/v1/models/churn/inferences"


def _stored(engine: Engine) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(InferenceRecord)).scalar_one()


def _send(client: TestClient, url: str, headers: dict[str, str], *records: dict) -> dict:
    reply = client.post(url, json={"records": list(records)}, headers=headers)
    return {"status": reply.status_code, **reply.json()}


def test_same_batch_sent_three_times_is_stored_once(
    client: TestClient, churn: str, ingest: dict[str, str], engine: Engine
) -> None:
    replies = [client.post(churn, json=batch(0, 50), headers=ingest).json() for _ in range(3)]
    assert replies == [
        {"accepted": 50, "duplicates": 0},
        {"accepted": 0, "duplicates": 50},
        {"accepted": 0, "duplicates": 50},
    ]
    assert _stored(engine) == 50


def test_overlapping_batches_store_only_new_records(
    client: TestClient, churn: str, ingest: dict[str, str], engine: Engine
) -> None:
    client.post(churn, json=batch(0, 10), headers=ingest)
    reply = client.post(churn, json=batch(5, 10), headers=ingest)
    assert reply.json() == {"accepted": 5, "duplicates": 5}
    assert _stored(engine) == 15


def test_repeated_request_id_inside_one_batch_counts_as_duplicate(
    client: TestClient, churn: str, ingest: dict[str, str], engine: Engine
) -> None:
    reply = _send(client, churn, ingest, record("a"), record("a"), record("b"))
    assert (reply["accepted"], reply["duplicates"]) == (2, 1)
    assert _stored(engine) == 2


def test_batch_with_one_bad_record_stores_nothing_and_names_it(
    client: TestClient, churn: str, ingest: dict[str, str], engine: Engine
) -> None:
    records = [record(f"r{i}") for i in range(5)]
    records[3]["features"]["age"] = "forty"
    reply = client.post(churn, json={"records": records}, headers=ingest)
    assert reply.status_code == 422
    assert reply.json()["detail"] == [
        {
            "loc": ["body", "records", 3, "features", "age"],
            "msg": "a numerical feature must be a number, got str 'forty'",
            "type": "type_error",
        }
    ]
    assert _stored(engine) == 0


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"features": {"age": 1, "vip": True, "height": 2}}, "height", "unknown feature"),
        ({"features": {"age": 1, "vip": "yes"}}, "vip", "takes true or false"),
        ({"features": {"plan": "pro", "vip": True}}, "age", "is missing and is not nullable"),
        ({"features": {"age": None, "vip": True}}, "age", "is not nullable"),
        ({"features": {"age": 1, "vip": True, "plan": 2.5}}, "plan", "takes a string"),
        ({"prediction": 1.7}, "prediction", "must lie in [0, 1]"),
        ({"prediction": {"0": 0.2, "1": 0.2}}, "prediction", "must sum to 1"),
        ({"prediction": "maybe"}, "prediction", "not a class label"),
        ({"timestamp": "yesterday"}, "timestamp", "datetime"),
        ({"timestamp": "2026-11-23T12:00:00"}, "timestamp", "has no zone"),
    ],
)
def test_each_kind_of_bad_value_is_refused_with_its_field(
    client: TestClient,
    churn: str,
    ingest: dict[str, str],
    change: dict,
    field: str,
    reason: str,
) -> None:
    reply = client.post(
        churn, json={"records": [record("ok"), record("bad", **change)]}, headers=ingest
    )
    assert reply.status_code == 422
    (problem,) = reply.json()["detail"]
    assert problem["loc"][:4] == ["body", "records", 1, *problem["loc"][3:4]]
    assert problem["loc"][-1] == field
    assert reason in problem["msg"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused(
    client: TestClient, churn: str, ingest: dict[str, str], engine: Engine, literal: str
) -> None:
    body = (
        '{"records": [{"request_id": "x", "features": {"age": ' + literal + ', "vip": true}, '
        '"prediction": 0.5}]}'
    )
    reply = client.post(churn, content=body, headers={**ingest, "content-type": "application/json"})
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"][-1] == "age"
    assert _stored(engine) == 0


def test_every_problem_of_a_batch_is_reported(
    client: TestClient, churn: str, ingest: dict[str, str]
) -> None:
    records = [record(f"r{i}", prediction="nope") for i in range(3)]
    reply = client.post(churn, json={"records": records}, headers=ingest)
    assert [p["loc"][2] for p in reply.json()["detail"]] == [0, 1, 2]


def test_nullable_feature_may_be_omitted(
    client: TestClient, churn: str, ingest: dict[str, str]
) -> None:
    reply = _send(client, churn, ingest, record("a", features={"age": 3, "vip": True}))
    assert reply["accepted"] == 1


def test_class_probabilities_and_labels_are_accepted_predictions(
    client: TestClient, churn: str, ingest: dict[str, str]
) -> None:
    reply = _send(
        client,
        churn,
        ingest,
        record("p", prediction={"0": 0.3, "1": 0.7}),
        record("l", prediction=1),
    )
    assert reply["accepted"] == 2


def test_batch_over_the_record_limit_is_413(
    client: TestClient, churn: str, ingest: dict[str, str], engine: Engine
) -> None:
    client.app.state.settings.max_batch_records = 10  # type: ignore[attr-defined]
    reply = client.post(churn, json=batch(0, 11), headers=ingest)
    assert reply.status_code == 413
    assert "split it" in reply.json()["detail"]
    assert _stored(engine) == 0


def test_body_over_the_byte_limit_is_413(
    client: TestClient, churn: str, ingest: dict[str, str]
) -> None:
    client.app.state.settings.max_request_bytes = 2048  # type: ignore[attr-defined]
    reply = client.post(churn, json=batch(0, 100), headers=ingest)
    assert reply.status_code == 413


def test_empty_batch_is_refused(client: TestClient, churn: str, ingest: dict[str, str]) -> None:
    reply = client.post(churn, json={"records": []}, headers=ingest)
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"] == ["body", "records"]


def test_records_read_back_by_time_range_in_pages(
    client: TestClient, churn: str, ingest: dict[str, str], reader: dict[str, str]
) -> None:
    records = [record(f"r{h}", timestamp=f"2026-11-23T{h:02d}:30:00Z") for h in range(10)]
    client.post(churn, json={"records": records}, headers=ingest)
    params = {"start": "2026-11-23T02:00:00Z", "end": "2026-11-23T08:00:00Z", "limit": 4}
    first = client.get(churn, params=params, headers=reader).json()
    second = client.get(
        churn, params={**params, "cursor": first["next_cursor"]}, headers=reader
    ).json()
    assert [r["request_id"] for r in first["data"]] == ["r2", "r3", "r4", "r5"]
    assert [r["request_id"] for r in second["data"]] == ["r6", "r7"]
    assert second["next_cursor"] is None


def test_stored_record_keeps_every_field(
    client: TestClient, churn: str, ingest: dict[str, str], reader: dict[str, str]
) -> None:
    sent = record(
        "full",
        model_version="7",
        variant="canary",
        latency_ms=12.5,
        status_code=200,
        timestamp="2026-11-23T12:00:00+02:00",
    )
    client.post(churn, json={"records": [sent]}, headers=ingest)
    (stored,) = client.get(churn, headers=reader).json()["data"]
    assert stored["timestamp"] == "2026-11-23T10:00:00Z"
    assert stored["features"] == {"age": 41, "plan": "pro", "vip": False}
    assert (stored["model_version"], stored["variant"]) == ("7", "canary")
    assert (stored["latency_ms"], stored["status_code"]) == (12.5, 200)


def test_record_without_timestamp_gets_server_time(
    client: TestClient, churn: str, ingest: dict[str, str], reader: dict[str, str]
) -> None:
    sent = record("now")
    del sent["timestamp"]
    client.post(churn, json={"records": [sent]}, headers=ingest)
    (stored,) = client.get(churn, headers=reader).json()["data"]
    assert stored["timestamp"] == stored["received_at"]


def test_unknown_model_refuses_records(client: TestClient, ingest: dict[str, str]) -> None:
    reply = client.post("/api/v1/models/ghost/inferences", json=batch(0, 1), headers=ingest)
    assert reply.status_code == 404


def test_failed_request_is_stored_without_a_prediction(
    client: TestClient, churn: str, ingest: dict[str, str], reader: dict[str, str]
) -> None:
    failed = record("boom", prediction=None, status_code=502, latency_ms=3.0)
    assert _send(client, churn, ingest, failed)["status"] == 202
    (stored,) = client.get(churn, headers=reader).json()["data"]
    assert (stored["prediction"], stored["status_code"]) == (None, 502)


@pytest.mark.parametrize("status_code", [None, 200, 399])
def test_null_prediction_of_a_successful_request_is_refused(
    client: TestClient, churn: str, ingest: dict[str, str], engine: Engine, status_code: int | None
) -> None:
    reply = _send(client, churn, ingest, record("a", prediction=None, status_code=status_code))
    assert reply["status"] == 422
    (problem,) = reply["detail"]
    assert problem["loc"] == ["body", "records", 0, "prediction"]
    assert "status_code (>= 400)" in problem["msg"]
    assert _stored(engine) == 0


def test_a_category_longer_than_the_cap_is_refused_naming_the_field(
    client: TestClient, churn: str, ingest: dict[str, str]
) -> None:
    long = record("r-long", features={"age": 41, "plan": "x" * 201, "vip": False})
    reply = client.post(churn, json={"records": [long]}, headers=ingest)
    assert reply.status_code == 422
    [problem] = reply.json()["detail"]
    assert problem["loc"] == ["body", "records", 0, "features", "plan"]
    assert "at most 200 characters" in problem["msg"]


def test_a_batch_with_too_many_distinct_categories_is_refused(
    client: TestClient, churn: str, ingest: dict[str, str], engine: Engine
) -> None:
    records = [
        record(f"r{i}", features={"age": 41, "plan": f"user-{i}", "vip": False})
        for i in range(1001)
    ]
    reply = client.post(churn, json={"records": records}, headers=ingest)
    assert reply.status_code == 422
    assert "'plan' takes 1001 distinct values" in reply.json()["detail"][0]["msg"]
    assert _stored(engine) == 0
