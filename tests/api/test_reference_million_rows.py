"""A million-row reference is stored in blocks, never held twice in memory."""

import tracemalloc
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from monitor.entities.registered_model import RegisteredModelCreate
from monitor.ingest.reference import ReferenceFormat
from monitor.services import models, references

ROWS = 1_000_000
FEATURES = [f"f{i}" for i in range(8)]
CHUNK_ROWS = 100_000
SCHEMA = pa.schema([(name, pa.float64()) for name in [*FEATURES, "prediction"]])
DATA_BYTES = ROWS * len(SCHEMA) * 8  # the reference as float64 columns


@pytest.fixture(scope="module")
def reference_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference on disk, written once for both stores by Arrow's CSV writer in chunks."""
    path = tmp_path_factory.mktemp("million") / "reference.csv"
    rng = np.random.default_rng(0)
    with pa_csv.CSVWriter(path, SCHEMA) as writer:
        for _ in range(0, ROWS, CHUNK_ROWS):
            columns = [
                *(rng.normal(size=CHUNK_ROWS) for _ in FEATURES),
                rng.uniform(size=CHUNK_ROWS),
            ]
            # Six decimals, as a user's export writes them (full precision doubles the file).
            writer.write_table(pa.table([c.round(6) for c in columns], schema=SCHEMA))
    return path


@pytest.mark.slow
def test_million_row_csv_is_stored_without_holding_the_data_twice(
    engine: Engine, reference_csv: Path
) -> None:
    features = [{"name": name, "kind": "numerical"} for name in FEATURES]
    model_in = RegisteredModelCreate(name="big", task="binary_classification", features=features)
    pool = pa.default_memory_pool()
    with Session(engine, expire_on_commit=False) as session:
        model = models.register_model(session=session, model_in=model_in)
        arrow_before = pool.max_memory()
        tracemalloc.start()
        stored = references.store_reference(
            session=session,
            model=model,
            path=reference_csv,
            fmt=ReferenceFormat.CSV,
            rows_per_chunk=65_536,
        )
        python_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    arrow_peak = pool.max_memory() - arrow_before
    assert stored.row_count == ROWS
    # Python objects plus Arrow buffers at their peaks: an upper bound on what was live at once.
    assert python_peak + arrow_peak < 2 * DATA_BYTES, (python_peak >> 20, arrow_peak >> 20)
