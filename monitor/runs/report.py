"""Evidently's HTML data-drift report for a run, on bounded samples of both sides."""

import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlmodel import Session, col, select

from detectors import FeatureSpec
from detectors.evidently_report import render_data_drift_html
from monitor.entities.reference import ReferenceChunk, ReferenceDataset
from monitor.entities.registered_model import ModelSchema

REPORT_SAMPLE_ROWS = 20_000  # Evidently recomputes from raw frames; keep the page quick to build
SEED = 0


def reference_sample(
    session: Session, reference: ReferenceDataset, columns: list[str], rows: int
) -> pd.DataFrame:
    """A seeded sample of the stored reference's `columns`, read chunk by chunk."""
    chunks = session.exec(
        select(ReferenceChunk.parquet)
        .where(ReferenceChunk.dataset_id == reference.id)
        .order_by(col(ReferenceChunk.seq))
    )
    table = pa.concat_tables(pq.read_table(io.BytesIO(chunk), columns=columns) for chunk in chunks)
    frame: pd.DataFrame = table.to_pandas()
    return frame.sample(n=min(rows, len(frame)), random_state=SEED)


def render_report(
    session: Session, reference: ReferenceDataset, schema: ModelSchema, window: pa.Table
) -> str:
    names = schema.feature_names
    current: pd.DataFrame = window.select(names).to_pandas()
    current = current.sample(n=min(REPORT_SAMPLE_ROWS, len(current)), random_state=SEED)
    specs = [FeatureSpec(f.name, f.kind.value, f.nullable) for f in schema.features]  # type: ignore[arg-type]
    return render_data_drift_html(
        reference_sample(session, reference, names, REPORT_SAMPLE_ROWS), current, specs
    )
