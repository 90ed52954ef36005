"""Ingestion speed of a real `monitor serve` over real sockets, on PostgreSQL and on SQLite.

Prints records per second for batches of 1,000 sent by several concurrent sidecar connections,
p50/p99 latency of single-record requests paced at a steady rate, each against its target, and as
the peer measured in the same run: PostgreSQL's own COPY rate for the same rows into a scratch
table, from this process, so the API's rate reads as a share of what the database can take.

    .venv/bin/python benchmarks/ingest.py [--records 200000] [--clients 4] [--workers 1 2]
    .venv/bin/python benchmarks/ingest.py --cloudevents [--instances-per-event 500]

`--workers 1 2` measures PostgreSQL with `monitor serve --workers 1` and then `--workers 2`
(the API's worker processes; SQLite is served by one) and prints the ratio of the two rates.
`--cloudevents` measures KServe payload-logger CloudEvents on PostgreSQL instead
(benchmarks/ingest_cloudevents.py), against the inferences API on the same records.

Needs PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres, or --postgres URL); it creates a
throwaway database there and drops it afterwards. Not part of the test suite.
"""

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
from ingest_cloudevents import TARGET_RECORDS_PER_S as CLOUDEVENTS_TARGET
from ingest_cloudevents import call_events, cloudevents_throughput

TARGET_RECORDS_PER_S = 20_000
# With more API worker processes the target grows: 35,000 records/s from 2 workers.
TARGET_BY_WORKERS = {1: TARGET_RECORDS_PER_S, 2: 35_000}
TARGET_P99_MS = 20.0
NUMERICAL = [f"num_{i}" for i in range(20)]
CATEGORICAL = [f"cat_{i}" for i in range(4)]
MODEL = "wide"
MODEL_VERSION = "v7"
START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
WARMUP_BATCHES = 5


# --- payloads -----------------------------------------------------------------------------


def model_definition() -> dict[str, Any]:
    features = [{"name": name, "kind": "numerical"} for name in NUMERICAL]
    features += [{"name": name, "kind": "categorical"} for name in CATEGORICAL]
    return {"name": MODEL, "task": "binary_classification", "features": features}


def sidecar_record(prefix: str, i: int) -> dict[str, Any]:
    """What a sidecar logs for one prediction: 20 numerical and 4 categorical features."""
    features: dict[str, Any] = {name: (i * 7 + k) % 101 / 10 for k, name in enumerate(NUMERICAL)}
    features.update({name: f"c{(i + k) % 5}" for k, name in enumerate(CATEGORICAL)})
    return {
        "request_id": f"{prefix}-{i}",
        "timestamp": (START + timedelta(milliseconds=i)).isoformat(),
        "model_version": MODEL_VERSION,
        "variant": "stable",
        "features": features,
        "prediction": (i % 100) / 100,
        "latency_ms": 3.5,
        "status_code": 200,
    }


def batch_bodies(prefix: str, records: int, batch_size: int) -> list[bytes]:
    """Request bodies serialised up front, so the timed loop only sends bytes."""
    return [
        orjson.dumps(
            {
                "records": [
                    sidecar_record(prefix, i)
                    for i in range(start, min(start + batch_size, records))
                ]
            }
        )
        for start in range(0, records, batch_size)
    ]


# --- the server under test ------------------------------------------------------------------


@dataclass
class Service:
    base_url: str
    admin_key: str
    ingest_key: str


def _monitor(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("monitor")), *args]


def _create_key(scope: str, env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        _monitor("keys", "create", "--scope", scope, "--name", "benchmark"),
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout.strip().splitlines()[-1]


@contextmanager
def monitor_serve(workdir: Path, database_url: str | None, workers: int = 1) -> Iterator[Service]:
    """`monitor serve --workers N` on a free loopback port, its store migrated and keys
    issued."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    env["MONITOR_DATA_DIR"] = str(workdir / "data")
    if database_url:
        env["MONITOR_DATABASE_URL"] = database_url
    admin_key = _create_key("admin", env, workdir)  # also runs the migrations
    ingest_key = _create_key("ingest", env, workdir)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = (workdir / "serve.log").open("wb")
    server = subprocess.Popen(
        _monitor("serve", "--port", str(port), "--workers", str(workers)),
        env=env,
        cwd=workdir,
        stdout=log,
        stderr=log,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120 * workers  # a busy machine starts slowly
        while not _ready(base_url):
            if server.poll() is not None or time.monotonic() > deadline:
                log.flush()
                tail = (workdir / "serve.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"monitor serve did not start:\n{tail}")
            time.sleep(0.05)
        yield Service(base_url, admin_key, ingest_key)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _ready(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _client(service: Service) -> httpx.Client:
    headers = {"Authorization": f"Bearer {service.ingest_key}", "Content-Type": "application/json"}
    return httpx.Client(base_url=service.base_url, headers=headers, timeout=60)


def register_model(service: Service) -> None:
    reply = httpx.post(
        f"{service.base_url}/api/v1/models",
        json=model_definition(),
        headers={"Authorization": f"Bearer {service.admin_key}"},
        timeout=30,
    )
    reply.raise_for_status()


# --- measurements ---------------------------------------------------------------------------

INFERENCES = f"/api/v1/models/{MODEL}/inferences"


def send_all(service: Service, bodies: list[bytes], clients: int) -> int:
    """POST every body over `clients` keep-alive connections; return the records accepted."""
    pending = iter(bodies)
    lock = threading.Lock()
    accepted: list[int] = []
    failures: list[str] = []

    def sidecar() -> None:
        with _client(service) as client:
            while True:
                with lock:
                    body = next(pending, None)
                if body is None or failures:
                    return
                reply = client.post(INFERENCES, content=body)
                if reply.status_code != 202:
                    failures.append(f"{reply.status_code}: {reply.text[:300]}")
                    return
                accepted.append(reply.json()["accepted"])

    threads = [threading.Thread(target=sidecar) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"ingestion failed: {failures[0]}")
    return sum(accepted)


def throughput(service: Service, records: int, batch_size: int, clients: int) -> float:
    """Records per second stored, after a warm-up that is not counted."""
    send_all(service, batch_bodies("warmup", WARMUP_BATCHES * batch_size, batch_size), clients)
    bodies = batch_bodies("load", records, batch_size)
    started = time.perf_counter()
    accepted = send_all(service, bodies, clients)
    elapsed = time.perf_counter() - started
    if accepted != records:
        raise RuntimeError(f"{accepted} of {records} records were stored; expected all")
    return records / elapsed


def paced_latency(service: Service, requests: int, rate: float) -> list[float]:
    """Milliseconds per 1-record request, sent on a fixed schedule over one connection."""
    bodies = [orjson.dumps({"records": [sidecar_record("single", i)]}) for i in range(requests)]
    latencies: list[float] = []
    with _client(service) as client:
        for i in range(20):  # warm the connection and the server's caches, not counted
            client.post(
                INFERENCES, content=orjson.dumps({"records": [sidecar_record("latency-warmup", i)]})
            )
        start = time.perf_counter()
        for i, body in enumerate(bodies):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sent = time.perf_counter()
            reply = client.post(INFERENCES, content=body)
            latencies.append((time.perf_counter() - sent) * 1000)
            if reply.status_code != 202:
                raise RuntimeError(f"single-record request failed: {reply.text[:300]}")
    return latencies


def copy_baseline(database_url: str, records: int, batch_size: int) -> float:
    """PostgreSQL's own rate: COPY of the same rows, one transaction per batch, same indexes."""
    received_at = datetime.now(UTC)
    rows = [
        (
            1,
            received_at,
            r["request_id"],
            datetime.fromisoformat(r["timestamp"]),
            r["model_version"],
            r["variant"],
            orjson.dumps(r["features"]).decode(),
            orjson.dumps(r["prediction"]).decode(),
            r["latency_ms"],
            r["status_code"],
        )
        for r in (sidecar_record("copy", i) for i in range(records))
    ]
    columns = (
        "model_id, received_at, request_id, timestamp, model_version, variant, features, "
        "prediction, latency_ms, status_code"
    )
    with psycopg.connect(database_url) as connection:
        connection.execute("CREATE TABLE copy_baseline (LIKE inference_record INCLUDING ALL)")
        connection.commit()
        started = time.perf_counter()
        for start in range(0, records, batch_size):
            with connection.cursor().copy(f"COPY copy_baseline ({columns}) FROM STDIN") as copy:
                for row in rows[start : start + batch_size]:
                    copy.write_row(row)
            connection.commit()
        elapsed = time.perf_counter() - started
        connection.execute("DROP TABLE copy_baseline")
    return records / elapsed


@contextmanager
def throwaway_database(server: str) -> Iterator[str]:
    name = f"monitor_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- report ---------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def report_store(
    label: str,
    service: Service,
    args: argparse.Namespace,
    copy_rate: float | None,
    target: int = TARGET_RECORDS_PER_S,
) -> float:
    """Print and return the records per second stored; then the paced latency."""
    register_model(service)
    rate = throughput(service, args.records, args.batch_size, args.clients)
    line = f"{label:<10} {rate:>10,.0f} records/s  ({rate / target:.2f}x the {target:,}/s target"
    if copy_rate is not None:
        line += f"; {rate / copy_rate:.2f}x COPY's {copy_rate:,.0f} records/s"
    print(line + ")", flush=True)
    latencies = paced_latency(service, args.latency_requests, args.rate)
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    print(
        f"{label:<10} 1-record requests at {args.rate:g}/s: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
        f"max {max(latencies):.1f} ms  (p99 {p99 / TARGET_P99_MS:.2f}x the "
        f"{TARGET_P99_MS:g} ms target; {len(latencies)} requests)",
        flush=True,
    )
    return rate


def report_cloudevents(service: Service, args: argparse.Namespace, database_url: str) -> None:
    """CloudEvents against the inferences API, same records, same batch size, same server."""
    register_model(service)
    per_event = args.instances_per_event
    records = [sidecar_record("ce", i) for i in range(args.records)]
    calls = [
        call_events(
            MODEL,
            start // per_event,
            [r["features"] for r in records[start : start + per_event]],
            [r["prediction"] for r in records[start : start + per_event]],
        )
        for start in range(0, args.records, per_event)
    ]
    peer = throughput(service, args.records, per_event, args.clients)
    rate = cloudevents_throughput(
        service.base_url, service.ingest_key, MODEL, calls, args.records, args.clients
    )
    with psycopg.connect(database_url) as connection:
        landed = connection.execute(
            "SELECT count(*) FROM inference_record WHERE request_id LIKE 'bench-%'"
        ).fetchone()
    if landed is None or landed[0] != args.records:
        raise RuntimeError(f"{landed} records landed from CloudEvents; expected {args.records}")
    print(
        f"{'inferences':<12} {peer:>10,.0f} records/s  (batches of {per_event}, the peer)\n"
        f"{'CloudEvents':<12} {rate:>10,.0f} records/s  ({rate / CLOUDEVENTS_TARGET:.2f}x the "
        f"{CLOUDEVENTS_TARGET:,} records/s target; {rate / peer:.2f}x the inferences API; "
        f"{2 * len(calls):,} events + 10% repeats, shuffled, {per_event} instances each; "
        f"exactly {args.records:,} records landed)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=1_000)
    parser.add_argument(
        "--clients", type=int, default=4, help="concurrent sidecar connections for throughput"
    )
    parser.add_argument("--latency-requests", type=int, default=1_000)
    parser.add_argument("--rate", type=float, default=50.0, help="1-record requests per second")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--cloudevents", action="store_true", help="KServe logger events")
    parser.add_argument("--instances-per-event", type=int, default=500)
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1],
        help="API worker processes to measure PostgreSQL with, e.g. `--workers 1 2`",
    )
    args = parser.parse_args()
    if args.cloudevents:
        with throwaway_database(args.postgres) as database_url:
            sqlalchemy_url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
            with (
                tempfile.TemporaryDirectory() as workdir,
                monitor_serve(Path(workdir), sqlalchemy_url) as service,
            ):
                report_cloudevents(service, args, database_url)
        return

    print(
        f"{args.records:,} records (20 numerical + 4 categorical features) in batches of "
        f"{args.batch_size:,} over {args.clients} connections; then {args.latency_requests:,} "
        f"1-record requests at {args.rate:g}/s over one connection; {os.cpu_count()} CPUs",
        flush=True,
    )
    rates: dict[int, float] = {}
    copy_rate: float | None = None
    for workers in args.workers:
        with throwaway_database(args.postgres) as database_url:
            sqlalchemy_url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
            with (
                tempfile.TemporaryDirectory() as workdir,
                monitor_serve(Path(workdir), sqlalchemy_url, workers) as service,
            ):
                if copy_rate is None:
                    copy_rate = copy_baseline(database_url, args.records, args.batch_size)
                    print(
                        f"{'COPY':<10} {copy_rate:>10,.0f} records/s  (the peer: psycopg COPY of "
                        "the same rows into a table with the same indexes, 1 connection, a "
                        "commit per batch)"
                    )
                label = "PostgreSQL" if workers == 1 else f"PG {workers}w"
                target = TARGET_BY_WORKERS.get(workers, TARGET_RECORDS_PER_S * workers)
                rates[workers] = report_store(label, service, args, copy_rate, target)
    if len(rates) > 1:
        first = min(rates)
        print(
            "workers: "
            + ", ".join(f"{n} -> {rate:,.0f} records/s" for n, rate in sorted(rates.items()))
            + f"; {max(rates)} workers {rates[max(rates)] / rates[first]:.2f}x {first}"
        )
    if not args.skip_sqlite:
        with (
            tempfile.TemporaryDirectory() as workdir,
            monitor_serve(Path(workdir), None) as service,
        ):
            report_store("SQLite", service, args, None)


if __name__ == "__main__":
    main()
