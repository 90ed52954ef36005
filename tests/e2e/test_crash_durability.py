"""SIGKILL of `monitor serve` in the middle of a stream of batches, on SQLite and PostgreSQL.

A batch answered 2xx must be in the store afterwards (acknowledged only after commit); a batch
cut off by the kill is stored whole or not at all; and a sidecar that resends everything after
the restart leaves exactly one copy of each record.
"""

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest
from sqlalchemy import Engine, select
from sqlmodel import col

from monitor.entities.inference import InferenceRecord
from tests.e2e.server import MonitorServer, running_server
from tests.factories import batch, model_payload

BATCHES = 120
RECORDS_PER_BATCH = 50
CLIENTS = 4  # concurrent sidecar connections, so several requests are in flight at the kill
KILL_AFTER_ACKNOWLEDGED = 12
REQUEST_TIMEOUT_S = 10.0
STREAM_TIMEOUT_S = 60.0
MODEL = "crash"
INFERENCES = f"/api/v1/models/{MODEL}/inferences"

BODIES = [orjson.dumps(batch(i * RECORDS_PER_BATCH, RECORDS_PER_BATCH)) for i in range(BATCHES)]


def request_ids(index: int) -> list[str]:
    return [record["request_id"] for record in orjson.loads(BODIES[index])["records"]]


def is_acknowledged(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def send_batches(
    server: MonitorServer,
    headers: dict[str, str],
    on_acknowledged: Callable[[int], None] = lambda _: None,
) -> dict[int, int | None]:
    """POST every batch over `CLIENTS` connections; the status of each (None: no answer)."""
    statuses: dict[int, int | None] = {}
    pending = iter(range(BATCHES))
    lock = threading.Lock()

    def sidecar() -> None:
        with httpx.Client(
            base_url=server.base_url,
            headers={**headers, "Content-Type": "application/json"},
            timeout=REQUEST_TIMEOUT_S,
        ) as client:
            while True:
                with lock:
                    index = next(pending, None)
                if index is None:
                    return
                try:
                    status: int | None = client.post(INFERENCES, content=BODIES[index]).status_code
                except httpx.TransportError:
                    status = None
                with lock:
                    statuses[index] = status
                    acknowledged = sum(map(is_acknowledged, statuses.values()))
                if is_acknowledged(status):
                    on_acknowledged(acknowledged)

    threads = [threading.Thread(target=sidecar, daemon=True) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + STREAM_TIMEOUT_S
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads), "a sidecar thread hung"
    return statuses


@dataclass(frozen=True)
class CrashedStream:
    server: MonitorServer
    acknowledged: list[int]
    unanswered: list[int]


@pytest.fixture
def crashed_stream(
    database_url: str, tmp_path: Path, admin: dict[str, str], ingest: dict[str, str]
) -> Iterator[CrashedStream]:
    """A server killed with SIGKILL after `KILL_AFTER_ACKNOWLEDGED` batches were answered."""
    settings = {
        "MONITOR_DATABASE_URL": database_url,
        "MONITOR_MIGRATE_ON_START": "false",
        "MONITOR_DATA_DIR": str(tmp_path / "data"),
    }
    with running_server(tmp_path, settings) as server:
        registered = httpx.post(
            f"{server.base_url}/api/v1/models",
            json=model_payload(MODEL),
            headers=admin,
            timeout=REQUEST_TIMEOUT_S,
        )
        assert registered.status_code == 201, registered.text

        def kill_mid_stream(acknowledged: int) -> None:
            if acknowledged == KILL_AFTER_ACKNOWLEDGED:
                server.kill()

        statuses = send_batches(server, ingest, kill_mid_stream)
        acknowledged = sorted(i for i, status in statuses.items() if is_acknowledged(status))
        unanswered = sorted(i for i, status in statuses.items() if status is None)
        # The premise of every test here: the kill landed mid-stream, with answered batches
        # before it and unanswered ones after it, and no batch was refused.
        assert len(acknowledged) >= KILL_AFTER_ACKNOWLEDGED
        assert unanswered
        assert len(acknowledged) + len(unanswered) == BATCHES, server.log_tail()
        yield CrashedStream(server, acknowledged, unanswered)


def stored_request_ids(engine: Engine) -> Counter[str]:
    with engine.connect() as connection:
        return Counter(connection.scalars(select(col(InferenceRecord.request_id))))


def test_every_acknowledged_batch_survives_sigkill(
    crashed_stream: CrashedStream, engine: Engine
) -> None:
    stored = stored_request_ids(engine)

    lost = [rid for i in crashed_stream.acknowledged for rid in request_ids(i) if rid not in stored]
    assert lost == []


def test_batch_cut_off_by_sigkill_is_stored_whole_or_not_at_all(
    crashed_stream: CrashedStream, engine: Engine
) -> None:
    stored = stored_request_ids(engine)

    partial = {
        index: count
        for index in crashed_stream.unanswered
        if 0 < (count := sum(1 for rid in request_ids(index) if rid in stored)) < RECORDS_PER_BATCH
    }
    assert partial == {}


def test_resending_the_stream_after_restart_stores_each_record_once(
    crashed_stream: CrashedStream, engine: Engine, ingest: dict[str, str]
) -> None:
    crashed_stream.server.start()

    statuses = send_batches(crashed_stream.server, ingest)

    assert set(statuses.values()) == {202}
    stored = stored_request_ids(engine)
    assert stored == Counter(rid for index in range(BATCHES) for rid in request_ids(index))
