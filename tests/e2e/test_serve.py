"""`monitor serve` from a bare working directory: no database service, no configuration."""

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.server import MonitorServer, bearer, running_server
from tests.factories import model_payload, record


@pytest.fixture(scope="module")
def bare_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MonitorServer]:
    with running_server(tmp_path_factory.mktemp("bare-workdir")) as server:
        yield server


def test_serve_keeps_its_store_in_sqlite_under_the_working_directory(
    bare_server: MonitorServer,
) -> None:
    assert (bare_server.workdir / "data" / "monitor.db").is_file()


def test_record_sent_by_a_sidecar_is_read_back_through_the_api(bare_server: MonitorServer) -> None:
    admin = bearer(bare_server.create_key("admin"))
    ingest = bearer(bare_server.create_key("ingest"))
    reader = bearer(bare_server.create_key("read"))
    sent = record("e2e-1", model_version="v3", variant="canary", latency_ms=12.5, status_code=200)

    with httpx.Client(base_url=bare_server.base_url, timeout=10.0) as client:
        registered = client.post("/api/v1/models", json=model_payload("churn"), headers=admin)
        logged = client.post(
            "/api/v1/models/churn/inferences", json={"records": [sent]}, headers=ingest
        )
        page = client.get("/api/v1/models/churn/inferences", headers=reader)

    assert (registered.status_code, logged.status_code, page.status_code) == (201, 202, 200)
    assert logged.json() == {"accepted": 1, "duplicates": 0}
    [stored] = page.json()["data"]
    expected = {key: value for key, value in sent.items() if key != "timestamp"}
    assert {key: stored[key] for key in expected} == expected
    assert stored["timestamp"].startswith("2026-11-23T12:00:00")
