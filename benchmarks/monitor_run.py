"""One monitor run over a 1,000,000-record window of 24 features stored in PostgreSQL, from the
query to persisted results, split into loading and computing, with the process's memory peak.

The peer, measured in the same run on the same rows: loading the same window the SQL way, with
the features extracted from the JSONB records by PostgreSQL and streamed out by COPY into Arrow
(no Python object per value), which is the fastest path that does not keep columnar segments.

    .venv/bin/python -m benchmarks.monitor_run [--records 1000000] [--postgres URL]

Creates a throwaway database on 127.0.0.1 (trust auth, user postgres) and drops it afterwards.
The run is measured in a fresh process so its memory peak is the run's own. Not a test.
"""

import argparse
import io
import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import pyarrow.csv as pa_csv

TARGET_SECONDS = 10.0
NUMERICAL = [f"num_{i}" for i in range(20)]
CATEGORICAL = [f"cat_{i}" for i in range(4)]
END = datetime(2026, 11, 23, tzinfo=UTC)
BATCH = 10_000


def _frame(rows: int, seed: int, shift: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {n: rng.normal(shift if i < 2 else 0.0, 1.0, rows) for i, n in enumerate(NUMERICAL)}
    )
    for k, name in enumerate(CATEGORICAL):
        frame[name] = rng.choice([f"c{j}" for j in range(5 + k)], rows)
    frame["prediction"] = rng.uniform(0, 1, rows)
    return frame


def populate(url: str, records: int) -> None:
    """Register the model, upload a reference, ingest `records` through the ingestion service."""
    from sqlmodel import Session

    from monitor.entities.inference import InferenceBatch, InferenceIn
    from monitor.entities.monitor import MonitorCreate
    from monitor.entities.registered_model import RegisteredModelCreate
    from monitor.ingest.reference import ReferenceFormat
    from monitor.services import ingestion, models, monitors, references
    from monitor.store.engine import make_engine
    from monitor.store.migrations import upgrade_to_head

    upgrade_to_head(url)
    engine = make_engine(url)
    features = [{"name": n, "kind": "numerical"} for n in NUMERICAL]
    features += [{"name": n, "kind": "categorical"} for n in CATEGORICAL]
    with Session(engine, expire_on_commit=False) as session:
        model = models.register_model(
            session=session,
            model_in=RegisteredModelCreate(
                name="wide", task="binary_classification", features=features
            ),
        )
        path = f"/tmp/reference-{uuid.uuid4().hex}.parquet"
        _frame(200_000, seed=1, shift=0.0).to_parquet(path)
        references.store_reference(
            session=session,
            model=model,
            path=Path(path),
            fmt=ReferenceFormat.PARQUET,
            rows_per_chunk=131_072,
        )
        monitors.create_monitor(
            session=session,
            model=model,
            monitor_in=MonitorCreate(window={"duration": "1d"}, schedule={"every": "1h"}),
        )
    started = time.perf_counter()
    for first in range(0, records, BATCH):
        frame = _frame(BATCH, seed=first + 7, shift=0.3)
        stamp = END - timedelta(hours=12) + timedelta(milliseconds=first)
        rows = frame.drop(columns=["prediction"]).to_dict("records")
        batch = InferenceBatch(
            records=[
                InferenceIn(
                    request_id=f"r{first + i}", timestamp=stamp, features=f, prediction=float(p)
                )
                for i, (f, p) in enumerate(zip(rows, frame["prediction"], strict=True))
            ]
        )
        with Session(engine, expire_on_commit=False) as session:
            ingestion.ingest_inferences(session=session, model=model, batch=batch)
    print(f"populated {records:,} records in {time.perf_counter() - started:.0f} s", flush=True)
    engine.dispose()


def measure(url: str) -> None:
    """Runs in a fresh process: one monitor run, then the peer's load of the same window."""
    import resource

    from sqlmodel import Session, select

    from monitor.entities.monitor import Monitor
    from monitor.entities.run import RunTrigger
    from monitor.runs.runner import execute_run, start_run
    from monitor.store.engine import make_engine

    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        monitor = session.exec(select(Monitor)).one()
        run = start_run(session, monitor=monitor, window_end=END, trigger=RunTrigger.MANUAL)
        assert run is not None  # manual runs are never refused as a repeated window
    started = time.perf_counter()
    done = execute_run(engine, run.id)  # type: ignore[arg-type]
    total = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    columns = ", ".join(
        [f"(features->>'{n}')::float8 AS {n}" for n in NUMERICAL]
        + [f"features->>'{c}' AS {c}" for c in CATEGORICAL]
    )
    query = (
        f"COPY (SELECT {columns} FROM inference_record "
        f"WHERE timestamp >= '{(END - timedelta(days=1)).isoformat()}' "
        f"AND timestamp < '{END.isoformat()}') TO STDOUT (FORMAT csv, HEADER)"
    )
    peer_started = time.perf_counter()
    with psycopg.connect(url.replace("+psycopg", "")) as connection:
        buffer = io.BytesIO()
        with connection.cursor().copy(query) as copy:
            for chunk in copy:
                buffer.write(chunk)
    buffer.seek(0)
    peer_rows = pa_csv.read_csv(buffer).num_rows
    peer_load = time.perf_counter() - peer_started
    print(
        json.dumps(
            {
                "status": done.status,
                "rows": done.rows,
                "drifted_features": done.drifted_features,
                "load_s": done.load_seconds,
                "compute_s": done.compute_seconds,
                "total_s": total,
                "peak_rss_mib": peak_mib,
                "peer_rows": peer_rows,
                "peer_load_s": peer_load,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure)
        return
    name = f"monitor_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{args.postgres.replace('postgresql://', 'postgresql+psycopg://')}/{name}"
    try:
        populate(url, args.records)
        output = (
            subprocess.run(
                [sys.executable, "-m", "benchmarks.monitor_run", "--measure", url],
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        figures = json.loads(output)
    finally:
        with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(
        f"monitor run over {figures['rows']:,} records x 24 features on PostgreSQL: "
        f"{figures['status']}, "
        f"{figures['drifted_features']} features drifted"
    )
    print(f"  load     {figures['load_s']:6.2f} s   (segments decoded into Arrow)")
    print(f"  compute  {figures['compute_s']:6.2f} s   (detectors, correction, data quality)")
    print(
        f"  total    {figures['total_s']:6.2f} s   query to persisted results "
        f"({figures['total_s'] / TARGET_SECONDS:.2f}x the {TARGET_SECONDS:.0f} s target)"
    )
    print(f"  peak RSS {figures['peak_rss_mib']:6.0f} MiB (the run's process)")
    print(
        f"peer: the same window extracted from JSONB by SQL and COPY into Arrow: "
        f"{figures['peer_load_s']:.2f} s for {figures['peer_rows']:,} rows; our load is "
        f"{figures['peer_load_s'] / figures['load_s']:.1f}x faster"
    )


if __name__ == "__main__":
    main()
