"""A million-row reference is stored in blocks, never held twice in memory."""

import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from monitor.entities.registered_model import RegisteredModelCreate
from monitor.ingest.reference import ReferenceFormat
from monitor.services import models, references

ROWS = 1_000_000
FEATURES = [f"f{i}" for i in range(8)]
CHUNK_ROWS = 100_000


def _write_csv(path: Path) -> int:
    """The reference on disk, written in chunks; returns its size as float64 columns."""
    rng = np.random.default_rng(0)
    with path.open("w") as handle:
        for start in range(0, ROWS, CHUNK_ROWS):
            frame = pd.DataFrame({name: rng.normal(size=CHUNK_ROWS) for name in FEATURES})
            frame["prediction"] = rng.uniform(size=CHUNK_ROWS)
            frame.to_csv(handle, index=False, header=start == 0, float_format="%.6f")
    return ROWS * (len(FEATURES) + 1) * 8


@pytest.mark.slow
def test_million_row_csv_is_stored_without_holding_the_data_twice(
    engine: Engine, tmp_path: Path
) -> None:
    csv = tmp_path / "reference.csv"
    data_bytes = _write_csv(csv)
    features = [{"name": name, "kind": "numerical"} for name in FEATURES]
    model_in = RegisteredModelCreate(name="big", task="binary_classification", features=features)
    pool = pa.default_memory_pool()
    with Session(engine, expire_on_commit=False) as session:
        model = models.register_model(session=session, model_in=model_in)
        arrow_before = pool.max_memory()
        tracemalloc.start()
        stored = references.store_reference(
            session=session, model=model, path=csv, fmt=ReferenceFormat.CSV, rows_per_chunk=65_536
        )
        python_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    arrow_peak = pool.max_memory() - arrow_before
    assert stored.row_count == ROWS
    # Python objects plus Arrow buffers at their peaks: an upper bound on what was live at once.
    assert python_peak + arrow_peak < 2 * data_bytes, (python_peak >> 20, arrow_peak >> 20)
