"""Fitting the reference profiles once, when a reference is uploaded, one column at a time:
feature and output drift profiles, the model-quality baseline and estimator where labels are
given, and the multivariate profile on an evenly spaced sample of rows."""

import io
import logging
import math
from collections.abc import Callable, Iterable

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from detectors import (
    FeatureSpec,
    MultivariateProfile,
    PerformanceBaseline,
    PerformanceEstimator,
    ReferenceProfile,
)
from detectors.prediction import output_columns
from monitor.entities.registered_model import ModelSchema, Task
from monitor.ingest.reference import LABEL, PREDICTION
from monitor.services.errors import Unprocessable

log = logging.getLogger(__name__)

# Explicit, so a stored profile says how it was fitted: PSI bins, KS grid, exact-test sample.
PROFILE_SETTINGS = {"bins": 10, "grid_size": 2_000, "sample_size": 10_000}
# PCA on 50,000 rows pins the components down; more would only cost memory at upload.
MULTIVARIATE_SAMPLE_ROWS = 50_000


ChunkSource = Callable[[], Iterable[bytes]]


def _column(chunks: ChunkSource, name: str) -> pd.Series:
    parts = [pq.read_table(io.BytesIO(chunk), columns=[name]).column(name) for chunk in chunks()]
    series: pd.Series = pa.chunked_array(parts).to_pandas()
    return series


def feature_specs(schema: ModelSchema) -> list[FeatureSpec]:
    return [
        FeatureSpec(f.name, f.kind.value, f.nullable)  # type: ignore[arg-type]
        for f in schema.features
    ]


def fit_feature_profile(schema: ModelSchema, chunks: ChunkSource) -> ReferenceProfile:
    """Profile every feature, streaming the stored chunks once per column, so memory holds one
    column at a time, never the whole reference."""
    profiles = []
    for spec in feature_specs(schema):
        frame = pd.DataFrame({spec.name: _column(chunks, spec.name)})
        profiles.append(ReferenceProfile.fit(frame, [spec], **PROFILE_SETTINGS).features[0])
    return ReferenceProfile(tuple(profiles), **PROFILE_SETTINGS)


def fit_output_profile(schema: ModelSchema, chunks: ChunkSource) -> ReferenceProfile:
    """Profile the model's outputs: the predicted class or value, and class scores when given."""
    frame, specs = output_columns(
        _column(chunks, PREDICTION), schema.task.value, class_labels=schema.class_labels or ()
    )
    return ReferenceProfile.fit(frame, specs, **PROFILE_SETTINGS)


def fit_performance(
    schema: ModelSchema, chunks: ChunkSource
) -> tuple[PerformanceBaseline | None, PerformanceEstimator | None]:
    """The reference's own quality on its labelled rows, and for a binary model logging scores
    the calibration that estimates quality before labels arrive; (None, None) without labels."""
    labels = _column(chunks, LABEL)
    if labels.notna().sum() == 0:
        return None, None
    predictions = _column(chunks, PREDICTION)
    classes = schema.class_labels or ()
    try:
        baseline = PerformanceBaseline.fit(predictions, labels, schema.task.value, classes)
        scored = schema.task is Task.BINARY_CLASSIFICATION and pd.api.types.is_float_dtype(
            predictions.dtype
        )
        estimator = (
            PerformanceEstimator.fit(predictions, labels, schema.task.value, classes)
            if scored
            else None
        )
    except ValueError as error:
        raise Unprocessable(
            LABEL,
            f"the '{LABEL}' column cannot set the model-quality baseline: {error}; upload more "
            f"labelled rows, or leave the '{LABEL}' column out",
        ) from error
    return baseline, estimator


def fit_multivariate_profile(
    schema: ModelSchema, chunks: ChunkSource, rows: int
) -> MultivariateProfile | None:
    """PCA over the features on at most `MULTIVARIATE_SAMPLE_ROWS` evenly spaced rows (in order,
    so the chunk variability still spans the reference's time); None where the features cannot
    carry it (fewer than two encoded columns, or too few rows)."""
    specs = feature_specs(schema)
    step = max(1, math.ceil(rows / MULTIVARIATE_SAMPLE_ROWS))
    parts, offset = [], 0
    for chunk in chunks():
        table = pq.read_table(io.BytesIO(chunk), columns=[s.name for s in specs])
        first = -offset % step
        parts.append(table.take(pa.array(range(first, table.num_rows, step))))
        offset += table.num_rows
    try:
        return MultivariateProfile.fit(pa.concat_tables(parts).to_pandas(), specs)
    except ValueError as error:
        log.info("no multivariate profile for this reference: %s", error)
        return None
