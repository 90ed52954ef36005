"""KServe's payload logger against a real `monitor serve` on PostgreSQL, over real sockets:
request and response CloudEvents (v1 and v2, single instances and batches, shuffled, some sent
twice) posted concurrently land as exactly one record per instance with the right values, and a
response whose request is late waits in the store, is reported, and lands when it comes.

The suite sends 2,000 events (1,000 records) to stay fast; the acceptance figure, 10,000 events
landing as exactly 5,000 records, is the same test with MONITOR_TEST_KSERVE_EVENTS=10000 (and
`benchmarks/ingest.py --cloudevents` checks it again at its own scale).
"""

import os
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from monitor.entities.api_key import Scope
from monitor.entities.inference import InferenceRecord
from monitor.entities.registered_model import RegisteredModel
from monitor.services.api_keys import create_key
from monitor.store.engine import make_engine
from tests.e2e.server import MonitorServer, bearer, running_server
from tests.factories import model_payload
from tests.kserve_events import (
    REQUEST,
    RESPONSE,
    kserve_event,
    v1_request,
    v1_response,
    v2_request,
    v2_response,
    v2_tensor,
)

# Of every 10 events: 9 distinct (8 of 4 single-instance calls, 1 of half a two-row batch
# call) and 1 repeat; so 10,000 events are 4,000 + 500 calls and land as 5,000 records.
EVENTS_SENT = int(os.environ.get("MONITOR_TEST_KSERVE_EVENTS", "2000"))
SINGLE_PAIRS = EVENTS_SENT * 4 // 10
BATCH_PAIRS = EVENTS_SENT // 20
REPEATS = EVENTS_SENT // 10
RECORDS = SINGLE_PAIRS + 2 * BATCH_PAIRS
CLIENTS = 8
PLANS = ["free", "pro", "team"]
EVENTS = "/api/v1/kserve/events"
MODEL = "kserve-logged"  # the InferenceService's name, sent as ce-inferenceservicename


@dataclass(frozen=True)
class Expected:
    features: dict[str, Any]
    prediction: Any


def _instance(i: int) -> dict[str, Any]:
    return {"age": i % 90, "plan": PLANS[i % 3], "vip": i % 7 == 0}


def _pair(
    pair: int, expected: dict[str, Expected], prefix: str = "call"
) -> list[tuple[dict[str, str], bytes]]:
    """The request and response events of one call; v1 for even calls, v2 for odd ones."""
    event_id = f"{prefix}-{pair}"
    if pair >= SINGLE_PAIRS:  # a v2 batch of two rows, class probabilities out
        rows = [_instance(pair), _instance(pair + 1)]
        tensor = v2_tensor("input-0", [2, 3], "BYTES", [list(row.values()) for row in rows])
        scores = [(pair % 10) / 10, 0.5]
        output = v2_tensor("probabilities", [2, 2], "FP64", [1 - scores[0], scores[0], 0.5, 0.5])
        for index, (row, score) in enumerate(zip(rows, scores, strict=True)):
            expected[f"{event_id}#{index}"] = Expected(row, {"0": 1 - score, "1": score})
        request, response = v2_request(tensor), v2_response(output)
    elif pair % 2 == 0:
        row = _instance(pair)
        score = (pair % 100) / 100
        expected[event_id] = Expected(row, score)
        request, response = v1_request(list(row.values())), v1_response(score)
    else:
        row = _instance(pair)
        inputs = [
            v2_tensor(name, [1], kind, [row[name]])
            for name, kind in (("age", "INT64"), ("plan", "BYTES"), ("vip", "BOOL"))
        ]
        expected[event_id] = Expected(row, str(pair % 2))
        request = v2_request(*inputs)
        response = v2_response(v2_tensor("predict", [1], "INT64", [pair % 2]))
    return [
        kserve_event(REQUEST, event_id, request, service=MODEL),
        kserve_event(RESPONSE, event_id, response, service=MODEL),
    ]


def _post_all(
    server: MonitorServer, key: str, events: list[tuple[dict[str, str], bytes]]
) -> list[int]:
    statuses: list[int] = []
    pending = iter(events)
    lock = threading.Lock()

    def logger() -> None:
        with httpx.Client(base_url=server.base_url, headers=bearer(key), timeout=30) as client:
            while True:
                with lock:
                    event = next(pending, None)
                if event is None:
                    return
                headers, body = event
                status = client.post(EVENTS, content=body, headers=headers).status_code
                with lock:
                    statuses.append(status)

    threads = [threading.Thread(target=logger, daemon=True) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not any(thread.is_alive() for thread in threads), server.log_tail()
    return statuses


def _records_of_model() -> Any:
    return (
        select(InferenceRecord)
        .join(RegisteredModel, col(RegisteredModel.id) == col(InferenceRecord.model_id))
        .where(RegisteredModel.name == MODEL)
    )


@pytest.fixture(scope="module")
def served(
    postgres_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[MonitorServer, Engine, str]]:
    """One server for the module (starting one is slow), on the session's database, which
    other tests may have used: a model of its own, and each test keeps to its own ce-ids."""
    workdir = tmp_path_factory.mktemp("kserve-logger")
    engine = make_engine(postgres_database)
    with Session(engine) as session:
        _, admin = create_key(session=session, scope=Scope.ADMIN, name="e2e admin")
        _, ingest = create_key(session=session, scope=Scope.INGEST, name="e2e logger")
    settings = {
        "MONITOR_DATABASE_URL": postgres_database,
        "MONITOR_MIGRATE_ON_START": "false",
        "MONITOR_SCHEDULER": "false",
        "MONITOR_DATA_DIR": str(workdir / "data"),
    }
    with running_server(workdir, settings) as server:
        payload = model_payload(MODEL, class_labels=["0", "1"])
        reply = httpx.post(f"{server.base_url}/api/v1/models", json=payload, headers=bearer(admin))
        assert reply.status_code == 201, reply.text
        yield server, engine, ingest
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.slow
def test_shuffled_repeated_events_land_as_exactly_one_record_per_instance(
    served: tuple[MonitorServer, Engine, str],
) -> None:
    server, engine, key = served
    expected: dict[str, Expected] = {}
    events = [
        event for pair in range(SINGLE_PAIRS + BATCH_PAIRS) for event in _pair(pair, expected)
    ]
    shuffler = random.Random(18)
    events += shuffler.sample(events, REPEATS)
    shuffler.shuffle(events)
    assert len(events) == EVENTS_SENT
    assert RECORDS == EVENTS_SENT // 2

    statuses = _post_all(server, key, events)

    assert statuses == [200] * len(events), server.log_tail()
    with Session(engine) as session:
        stored = {
            r.request_id: Expected(r.features, r.prediction)
            for r in session.exec(
                _records_of_model().where(col(InferenceRecord.request_id).startswith("call-"))
            )
        }
    assert len(stored) == RECORDS
    assert stored == expected
    pending = httpx.get(
        f"{server.base_url}/api/v1/models/{MODEL}/kserve/pending", headers=bearer(key)
    ).json()
    assert (pending["waiting_requests"], pending["waiting_responses"]) == (0, 0)


@pytest.mark.postgres
def test_response_whose_request_is_late_is_kept_reported_and_matched(
    served: tuple[MonitorServer, Engine, str],
) -> None:
    server, engine, key = served
    expected: dict[str, Expected] = {}
    request, response = _pair(2, expected, prefix="late")
    pending_url = f"/api/v1/models/{MODEL}/kserve/pending"
    with httpx.Client(base_url=server.base_url, headers=bearer(key), timeout=30) as client:
        assert client.post(EVENTS, content=response[1], headers=response[0]).status_code == 200
        assert client.get(pending_url).json()["waiting_responses"] == 1
        landed = client.post(EVENTS, content=request[1], headers=request[0]).json()
        assert landed == {"outcome": "landed", "accepted": 1, "duplicates": 0}
        assert client.get(pending_url).json()["waiting_responses"] == 0
    with Session(engine) as session:
        [record] = session.exec(
            _records_of_model().where(InferenceRecord.request_id == "late-2")
        ).all()
    assert Expected(record.features, record.prediction) == expected["late-2"]
