"""The sidecar as deployed: a real `monitor sidecar` in front of a real `mlflow models serve`,
shipping to a real `monitor serve`, which is killed and restarted on the same store."""

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import tests.e2e.server
from tests.e2e.server import MonitorServer, bearer, running_server
from tests.sidecar.processes import (
    IRIS,
    IRIS_FEATURES,
    Process,
    arrived,
    iris_model_payload,
    iris_rows,
    log_iris_model,
    model_server,
    sidecar_client,
    stored_records,
    wait_for,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sidecar-e2e")


@pytest.fixture(scope="module")
def upstream(workdir: Path) -> Iterator[Process]:
    tracking_uri = f"sqlite:///{workdir / 'mlflow.db'}"
    model_uri = log_iris_model(tracking_uri, workdir / "artifacts")
    with model_server(model_uri, tracking_uri, workdir) as server:
        yield server


@pytest.fixture(scope="module")
def control_plane(workdir: Path) -> Iterator[MonitorServer]:
    with running_server(workdir) as server:
        yield server


@pytest.fixture(scope="module")
def admin(control_plane: MonitorServer) -> Iterator[httpx.Client]:
    headers = bearer(control_plane.create_key("admin"))
    with httpx.Client(base_url=control_plane.base_url, headers=headers, timeout=30.0) as client:
        assert client.post("/api/v1/models", json=iris_model_payload()).status_code == 201
        yield client


@pytest.fixture(scope="module")
def sidecar(
    workdir: Path, upstream: Process, control_plane: MonitorServer, admin: httpx.Client
) -> Iterator[httpx.Client]:
    with sidecar_client(
        workdir, control_plane, model=IRIS, upstream=upstream.url, routing_poll_seconds="0.5"
    ) as client:
        yield client


def _body(rows: list[list[float | None]]) -> dict[str, Any]:
    return {"dataframe_split": {"columns": IRIS_FEATURES, "data": rows}}


def test_callers_get_the_models_own_answers(sidecar: httpx.Client, upstream: Process) -> None:
    rows = iris_rows()[::10]
    body = _body(rows)  # type: ignore[arg-type]
    through = sidecar.post("/invocations", json=body)
    direct = httpx.post(f"{upstream.url}/invocations", json=body, timeout=30.0)
    assert through.status_code == direct.status_code == 200
    assert through.json() == direct.json()
    assert len(through.headers["X-Request-Id"]) == 32
    assert through.headers["X-Model-Variant"] == "stable"
    assert sidecar.get("/ping").status_code == 200


def test_served_requests_arrive_with_how_they_were_served(
    sidecar: httpx.Client, admin: httpx.Client
) -> None:
    rows = iris_rows()
    singles = [sidecar.post("/invocations", json=_body([rows[index * 30]])) for index in range(5)]
    pair = sidecar.post("/invocations", json=_body(rows[:2]))
    pair_id = pair.headers["X-Request-Id"]
    ids = {reply.headers["X-Request-Id"] for reply in singles} | {f"{pair_id}:0", f"{pair_id}:1"}
    stored = arrived(admin, IRIS, ids)
    routing = admin.get(f"/api/v1/models/{IRIS}/routing").json()
    (stable,) = [v for v in routing["variants"] if v["name"] == "stable"]
    first = stored[singles[0].headers["X-Request-Id"]]
    assert first["features"] == dict(zip(IRIS_FEATURES, rows[0], strict=True))
    assert set(first["prediction"]) == {"0", "1", "2"}
    assert max(first["prediction"], key=first["prediction"].get) == "0"  # a setosa
    for record in stored.values():
        assert (record["variant"], record["model_version"]) == ("stable", stable["model_version"])
        assert (record["status_code"], record["latency_ms"] > 0) == (200, True)


def test_a_caller_cannot_pre_empt_another_callers_record_by_naming_its_id(
    sidecar: httpx.Client, admin: httpx.Client
) -> None:
    setosa, virginica = iris_rows()[0], iris_rows()[-1]
    first = sidecar.post("/invocations", json=_body([setosa]))
    # A second caller sends the first one's id (guessed or seen) as its own X-Request-Id, and
    # an id that is still to come; neither becomes the key of its record.
    claimed = first.headers["X-Request-Id"]
    upcoming = uuid.uuid4().hex
    copycat = sidecar.post(
        "/invocations", json=_body([virginica]), headers={"X-Request-Id": claimed}
    )
    early = sidecar.post(
        "/invocations", json=_body([virginica]), headers={"X-Request-Id": upcoming}
    )
    own_ids = {copycat.headers["X-Request-Id"], early.headers["X-Request-Id"]}
    assert own_ids.isdisjoint({claimed, upcoming})
    stored = arrived(admin, IRIS, {claimed} | own_ids)
    assert stored[claimed]["features"] == dict(zip(IRIS_FEATURES, setosa, strict=True))
    for own in own_ids:
        assert stored[own]["features"] == dict(zip(IRIS_FEATURES, virginica, strict=True))
    assert upcoming not in stored_records(admin, IRIS)


def test_a_model_server_error_is_recorded_with_its_status_and_no_prediction(
    sidecar: httpx.Client, admin: httpx.Client
) -> None:
    row: list[float | None] = [5.1, 3.5, 1.4, None]  # the model cannot take a missing value
    reply = sidecar.post("/invocations", json=_body([row]))
    assert reply.status_code == 400
    request_id = reply.headers["X-Request-Id"]
    assert "error_code" in reply.json()
    record = arrived(admin, IRIS, {request_id})[request_id]
    assert (record["status_code"], record["prediction"]) == (400, None)


def test_records_served_while_the_control_plane_is_down_arrive_once_after_it_returns(
    sidecar: httpx.Client,
    admin: httpx.Client,
    control_plane: MonitorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = iris_rows()
    dropped_before = sidecar.get("/sidecar/status").json()["dropped_records"]
    control_plane.kill()
    ids = set()
    for index in range(40):
        reply = sidecar.post("/invocations", json=_body([rows[index]]))
        assert reply.status_code == 200
        ids.add(reply.headers["X-Request-Id"])
        time.sleep(0.02)  # spread over several flushes, so several batches are spooled
    wait_for(
        "nothing was spooled",
        lambda: sidecar.get("/sidecar/status").json()["spooled_batches"] > 1,
    )
    port = control_plane.port  # the sidecar knows the control plane by this address
    monkeypatch.setattr(tests.e2e.server, "free_port", lambda: port)
    control_plane.start()
    arrived(admin, IRIS, ids)
    wait_for(
        "the spool was not emptied",
        lambda: sidecar.get("/sidecar/status").json()["spooled_batches"] == 0,
    )
    stored = [key for key in stored_records(admin, IRIS) if key in ids]
    assert sorted(stored) == sorted(ids)
    assert sidecar.get("/sidecar/status").json()["dropped_records"] == dropped_before
