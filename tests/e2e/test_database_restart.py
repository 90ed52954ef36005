"""PostgreSQL restarted under a stream of ingest batches (issue #16, finding 18).

The control plane runs on a PostgreSQL cluster of the test's own (initdb in a temporary folder,
started with pg_ctl), so the test can restart it without touching the machine's server. While
four sidecar connections post batches, the cluster is restarted: every answer must be 202 or 503
with Retry-After (a database that is away is not a server error), every batch answered 202 must
be in the store afterwards, and the server must take batches again once the database is back.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import psycopg
import pytest

from monitor.deployers.process import free_port
from tests.e2e.server import bearer, running_server
from tests.factories import batch, model_payload

PG_BIN = Path("/usr/lib/postgresql")
CLIENTS = 4
RECORDS_PER_BATCH = 20
MODEL = "restart"


def _postgres_bin() -> Path | None:
    found = sorted(PG_BIN.glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


def _as_postgres(*command: str) -> list[str]:
    """Run a server binary as the `postgres` user (initdb refuses root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


@pytest.fixture
def private_postgres() -> Iterator[tuple[str, Path]]:
    """A throwaway cluster on a free port: (its URL, its pg_ctl)."""
    binaries = _postgres_bin()
    if binaries is None:
        if os.environ.get("CI") or os.environ.get("MONITOR_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
        pytest.skip("PostgreSQL's server binaries are not installed")
    # Directly under /tmp: pytest's own temporary folders are private to root, and the cluster
    # runs as `postgres`.
    folder = Path(tempfile.mkdtemp(prefix="monitor-pg-"))
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    port = free_port()
    subprocess.run(
        _as_postgres(str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"),
        check=True,
        capture_output=True,
    )
    pg_ctl = binaries / "pg_ctl"
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = [str(pg_ctl), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w"]
    subprocess.run(_as_postgres(*start, "start"), check=True, capture_output=True)
    try:
        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True
        ) as c:
            c.execute("CREATE DATABASE monitor")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/monitor", data
    finally:
        subprocess.run(
            _as_postgres(str(pg_ctl), "-D", str(data), "-m", "immediate", "stop"),
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


def test_a_database_restart_under_load_answers_503_not_500_and_loses_no_acknowledged_batch(
    private_postgres: tuple[str, Path], tmp_path: Path
) -> None:
    url, data = private_postgres
    pg_ctl = str(_postgres_bin() / "pg_ctl")  # type: ignore[operator]
    with running_server(tmp_path, {"MONITOR_DATABASE_URL": url}) as server:
        admin = bearer(server.create_key("admin"))
        ingest = {**bearer(server.create_key("ingest")), "Content-Type": "application/json"}
        httpx.post(
            f"{server.base_url}/api/v1/models", json=model_payload(MODEL), headers=admin
        ).raise_for_status()
        answers: list[tuple[int, int, str | None]] = []  # (batch, status, Retry-After)
        lock = threading.Lock()
        stop = threading.Event()
        counter = iter(range(10**6))

        def sidecar() -> None:
            with httpx.Client(base_url=server.base_url, headers=ingest, timeout=15.0) as client:
                while not stop.is_set():
                    with lock:
                        index = next(counter)
                    body = orjson.dumps(batch(index * RECORDS_PER_BATCH, RECORDS_PER_BATCH))
                    reply = client.post(f"/api/v1/models/{MODEL}/inferences", content=body)
                    with lock:
                        answers.append((index, reply.status_code, reply.headers.get("Retry-After")))
                    if reply.status_code == 503:
                        time.sleep(0.1)

        threads = [threading.Thread(target=sidecar) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        time.sleep(2.0)
        # -l: the new postmaster must not hold this process' pipes open
        restart = [pg_ctl, "-D", str(data), "-l", str(data.parent / "log"), "-m", "fast", "-w"]
        restarted = subprocess.run(
            _as_postgres(*restart, "restart"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
        time.sleep(4.0)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        assert restarted.returncode == 0, restarted.stderr
        statuses = [status for _, status, _ in answers]
        assert set(statuses) <= {202, 503}, f"unexpected answers: {sorted(set(statuses))}"
        assert all(after for _, status, after in answers if status == 503)
        assert 503 in statuses, "no request met the restart: the test proved nothing"
        assert 202 in statuses[-CLIENTS * 3 :], "the server did not take batches again"
        acknowledged = {index for index, status, _ in answers if status == 202}
        with psycopg.connect(url.replace("+psycopg", "")) as connection:
            stored = {
                request_id
                for (request_id,) in connection.execute(
                    "SELECT r.request_id FROM inference_record r JOIN registered_model m "
                    "ON m.id = r.model_id WHERE m.name = %s",
                    (MODEL,),
                )
            }
        lost = [
            index
            for index in sorted(acknowledged)
            if not {
                f"req-{i}"
                for i in range(index * RECORDS_PER_BATCH, (index + 1) * RECORDS_PER_BATCH)
            }
            <= stored
        ]
        assert lost == [], f"acknowledged batches missing from the store: {lost[:10]}"
        print(
            f"{len(answers)} batches: {statuses.count(202)} acknowledged, "
            f"{statuses.count(503)} answered 503 during the restart; {len(stored)} records stored"
        )
