"""One monitor run over a 1,000,000-record window of 24 features stored in PostgreSQL, from the
query to persisted results, split into loading and computing, with the run's memory peak.

The peer, measured in the same run on the same rows: loading the same window the SQL way, with
the features extracted from the JSONB records by PostgreSQL and streamed out by COPY into Arrow
(no Python object per value), which is the fastest path that does not keep columnar segments.

    .venv/bin/python -m benchmarks.monitor_run [--records 1000000] [--postgres URL]
    .venv/bin/python -m benchmarks.monitor_run --records 10000000 --segments-only

Creates a throwaway database on 127.0.0.1 (trust auth, user postgres) and drops it afterwards.
The run is measured in a fresh process whose modules are imported first: the figures are the
process's peak resident memory during the run (Linux's VmHWM, reset before it starts) and that
peak above the resident memory before it. ``--segments-only`` writes the window's columnar
segments directly (65,536 rows each, as compaction leaves them) instead of ingesting every record
through the API's service, so a 10M-record window is populated in minutes; the peer's SQL load
then has no JSON records to read and is skipped. Not a test.
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
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pyarrow.csv as pa_csv

TARGET_SECONDS = 2.0
TARGET_PEAK_MIB = 400
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


def populate(url: str, records: int, *, segments_only: bool) -> None:
    """Register the model, upload a reference, ingest `records` through the ingestion service
    (or, `segments_only`, write them as columnar segments)."""
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
    if segments_only:
        _write_segments(engine, model, records)
        print(f"wrote {records:,} records as segments in {time.perf_counter() - started:.0f} s")
        engine.dispose()
        return
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


def _write_segments(engine: Any, model: Any, records: int) -> None:
    """The window as segments of 65,536 records, written straight into `inference_segment`."""
    import pyarrow as pa
    from sqlmodel import Session

    from detectors.prediction import score_column
    from monitor.entities.segment import InferenceSegment
    from monitor.store.types import utc_now
    from monitor.windows.compaction import TARGET_ROWS
    from monitor.windows.segments import encode_table, segment_schema

    schema = segment_schema(model.data_schema)
    start = END - timedelta(hours=12)
    for first in range(0, records, TARGET_ROWS):
        rows = min(TARGET_ROWS, records - first)
        frame = _frame(rows, seed=first + 7, shift=0.3)
        offsets = np.arange(first, first + rows, dtype=np.int64) * 2_000  # 2 ms apart
        times = pd.Series(pd.Timestamp(start) + pd.to_timedelta(offsets, unit="us"))
        columns = {
            "request_id": [f"r{first + i}" for i in range(rows)],
            "timestamp": times,
            "model_version": pa.nulls(rows, pa.string()),
            "variant": pa.nulls(rows, pa.string()),
            "latency_ms": pa.nulls(rows, pa.float64()),
            "status_code": pa.nulls(rows, pa.int32()),
            **{name: frame[name] for name in NUMERICAL + CATEGORICAL},
            "prediction": np.where(frame["prediction"] >= 0.5, "1", "0"),
            score_column("1"): frame["prediction"],
        }
        table = pa.table({f.name: pa.array(columns[f.name], f.type) for f in schema})
        with Session(engine) as session:
            session.execute(
                InferenceSegment.__table__.insert().values(  # type: ignore[attr-defined]
                    model_id=model.id,
                    min_timestamp=times.iloc[0].to_pydatetime(),
                    max_timestamp=times.iloc[-1].to_pydatetime(),
                    row_count=rows,
                    arrow=encode_table(table),
                    created_at=utc_now(),
                )
            )
            session.commit()


def _memory_kib(field: str) -> int:
    """A field of /proc/self/status (VmRSS, VmHWM) in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def measure(url: str, *, peer: bool) -> None:
    """Runs in a fresh process: one monitor run, then the peer's load of the same window."""
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
    baseline_kib = _memory_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current RSS
    started = time.perf_counter()
    done = execute_run(engine, run.id)  # type: ignore[arg-type]
    total = time.perf_counter() - started
    peak_kib = _memory_kib("VmHWM")
    figures = {
        "status": done.status,
        "rows": done.rows,
        "drifted_features": done.drifted_features,
        "load_s": done.load_seconds,
        "compute_s": done.compute_seconds,
        "total_s": total,
        "peak_rss_mib": peak_kib / 1024,
        "baseline_rss_mib": baseline_kib / 1024,
        "peer_rows": None,
        "peer_load_s": None,
    }
    if peer:
        figures["peer_rows"], figures["peer_load_s"] = _peer_load(url)
    print(json.dumps(figures))


def _peer_load(url: str) -> tuple[int, float]:
    """The same window extracted from the JSONB records by SQL and COPY into Arrow."""
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
    return peer_rows, time.perf_counter() - peer_started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--segments-only",
        action="store_true",
        help="write the window as columnar segments instead of ingesting every record",
    )
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure, peer=not args.segments_only)
        return
    name = f"monitor_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{args.postgres.replace('postgresql://', 'postgresql+psycopg://')}/{name}"
    try:
        populate(url, args.records, segments_only=args.segments_only)
        flags = ["--segments-only"] if args.segments_only else []
        output = (
            subprocess.run(
                [sys.executable, "-m", "benchmarks.monitor_run", "--measure", url, *flags],
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
    report(figures)


def report(figures: dict[str, Any]) -> None:
    total, peak = figures["total_s"], figures["peak_rss_mib"]
    above = peak - figures["baseline_rss_mib"]
    print(
        f"monitor run over {figures['rows']:,} records x 24 features on PostgreSQL: "
        f"{figures['status']}, {figures['drifted_features']} features drifted"
    )
    print(f"  load     {figures['load_s']:6.2f} s   (segments streamed and decoded, in batches)")
    print(f"  compute  {figures['compute_s']:6.2f} s   (summaries, detectors, correction, quality)")
    print(
        f"  total    {total:6.2f} s   query to persisted results "
        f"({total / TARGET_SECONDS:.2f}x the {TARGET_SECONDS:.0f} s target)"
    )
    print(
        f"  peak RSS {peak:6.0f} MiB during the run ({peak / TARGET_PEAK_MIB:.2f}x the "
        f"{TARGET_PEAK_MIB} MiB target), {above:.0f} MiB above the "
        f"{figures['baseline_rss_mib']:.0f} MiB the process held before it"
    )
    if figures["peer_load_s"] is not None:
        print(
            f"peer: the same window extracted from JSONB by SQL and COPY into Arrow: "
            f"{figures['peer_load_s']:.2f} s for {figures['peer_rows']:,} rows; our whole run is "
            f"{figures['peer_load_s'] / total:.1f}x its load alone"
        )
    print(f"monitor_run: {figures['rows']} records, {total:.2f} s, peak {peak:.0f} MiB")


if __name__ == "__main__":
    main()
