"""Fitting the reference profiles once, when a reference is uploaded, one column at a time."""

import io
from collections.abc import Callable, Iterable

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from detectors import FeatureSpec, ReferenceProfile
from detectors.prediction import output_columns
from monitor.entities.registered_model import ModelSchema
from monitor.ingest.reference import PREDICTION

# Explicit, so a stored profile says how it was fitted: PSI bins, KS grid, exact-test sample.
PROFILE_SETTINGS = {"bins": 10, "grid_size": 2_000, "sample_size": 10_000}


ChunkSource = Callable[[], Iterable[bytes]]


def _column(chunks: ChunkSource, name: str) -> pd.Series:
    parts = [pq.read_table(io.BytesIO(chunk), columns=[name]).column(name) for chunk in chunks()]
    series: pd.Series = pa.chunked_array(parts).to_pandas()
    return series


def fit_feature_profile(schema: ModelSchema, chunks: ChunkSource) -> ReferenceProfile:
    """Profile every feature, streaming the stored chunks once per column, so memory holds one
    column at a time, never the whole reference."""
    profiles = []
    for feature in schema.features:
        spec = FeatureSpec(feature.name, feature.kind.value, feature.nullable)  # type: ignore[arg-type]
        frame = pd.DataFrame({feature.name: _column(chunks, feature.name)})
        profiles.append(ReferenceProfile.fit(frame, [spec], **PROFILE_SETTINGS).features[0])
    return ReferenceProfile(tuple(profiles), **PROFILE_SETTINGS)


def fit_output_profile(schema: ModelSchema, chunks: ChunkSource) -> ReferenceProfile:
    """Profile the model's outputs: the predicted class or value, and class scores when given."""
    frame, specs = output_columns(
        _column(chunks, PREDICTION), schema.task.value, class_labels=schema.class_labels or ()
    )
    return ReferenceProfile.fit(frame, specs, **PROFILE_SETTINGS)
