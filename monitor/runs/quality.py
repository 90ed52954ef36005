"""A window's model quality: its predictions joined to the labels known so far on `request_id`,
realized against the reference baseline, estimated from scores, plus multivariate drift."""

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, and_, func, select

from detectors import (
    MultivariateDriftResult,
    MultivariateProfile,
    PerformanceBaseline,
    PerformanceEstimator,
    PerformanceReport,
    PerformanceResult,
    PerformanceRule,
    estimate_performance,
    multivariate_drift,
    realized_performance,
)
from detectors.outputs import Values
from detectors.prediction import PREDICTION
from monitor.entities.inference import InferenceRecord
from monitor.entities.label import GroundTruthLabel
from monitor.entities.monitor import QualitySettings
from monitor.entities.quality import QualityResult
from monitor.entities.reference import ReferenceDataset
from monitor.entities.registered_model import ModelSchema, Task
from monitor.runs.window_frames import frame_for
from monitor.windows.segments import REQUEST_ID, TIMESTAMP, score_columns

_label = GroundTruthLabel.__table__  # type: ignore[attr-defined]
_record = InferenceRecord.__table__  # type: ignore[attr-defined]
_result = QualityResult.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class MetricQuality:
    """One metric of a window: realized (always) and estimated (classifiers with scores)."""

    realized: PerformanceResult
    estimated: PerformanceResult | None
    min_labels: int

    @property
    def judged(self) -> bool:
        """Enough labelled rows for a verdict on a defined value."""
        realized = self.realized
        return realized.n_labelled >= self.min_labels and math.isfinite(realized.value)


@dataclass(frozen=True, slots=True)
class WindowQuality:
    """What a window's quality rows are made of; `label_revision` is the count of label batches
    that had touched the window when its labels were read (see `monitor.runs.relabelling`)."""

    metrics: tuple[MetricQuality, ...]
    n_records: int
    first_record_at: datetime
    last_record_at: datetime
    label_revision: int


def performance_rules(
    baseline: PerformanceBaseline, settings: QualitySettings
) -> tuple[PerformanceRule, ...]:
    """The monitor's rules, or the default rule for every metric of the baseline (ValueError
    naming the metric when a rule asks for one the reference's labels cannot give)."""
    if settings.rules is None:
        return tuple(
            PerformanceRule(m.metric, min_labels=settings.min_labels) for m in baseline.metrics
        )
    rules = [rule.performance_rule(settings.min_labels) for rule in settings.rules]
    return baseline.rules_or_default(rules)


def window_predictions(table: pa.Table, schema: ModelSchema) -> Values:
    """The window's outputs as the performance detectors read them: class probabilities (rows x
    classes, NaN rows where a record logged no scores) when any record logged scores, else the
    predicted classes or values."""
    if schema.task is Task.REGRESSION:
        values: np.ndarray[Any, Any] = table.column(PREDICTION).to_numpy()
        return values
    columns = [table.column(name) for name in score_columns(schema)]
    if any(column.null_count < len(column) for column in columns):
        scores = np.column_stack([column.to_numpy(zero_copy_only=False) for column in columns])
        scores = scores.astype(np.float64)
        if schema.task is Task.BINARY_CLASSIFICATION:
            return np.column_stack([1.0 - scores[:, 0], scores[:, 0]])
        return scores
    classes: pd.Series = table.column(PREDICTION).to_pandas()
    return classes


def window_labels(connection: Connection, model_id: int, table: pa.Table) -> pd.Series:
    """The label known for each record of the window, row for row (None where none yet): the
    labels of the model's records in the window's time span, aligned on `request_id`."""
    times = table.column(TIMESTAMP)
    found = connection.execute(
        select(_label.c.request_id, _label.c.value)
        .join(
            _record,
            and_(
                _record.c.model_id == _label.c.model_id,
                _record.c.request_id == _label.c.request_id,
            ),
        )
        .where(_label.c.model_id == model_id)
        .where(_record.c.timestamp >= pc.min(times).as_py())
        .where(_record.c.timestamp <= pc.max(times).as_py())
    ).all()
    values = np.empty(table.num_rows, dtype=object)
    if found:
        ids, labels = zip(*found, strict=True)
        positions = pd.Index(ids).get_indexer(table.column(REQUEST_ID).to_pandas())
        known = positions >= 0
        values[known] = np.asarray(labels, dtype=object)[positions[known]]
    return pd.Series(values, dtype=object)


def label_revision(connection: Connection, monitor_id: int, window_end: datetime) -> int:
    revision = connection.execute(
        select(func.max(_result.c.label_revision))
        .where(_result.c.monitor_id == monitor_id)
        .where(_result.c.window_end == window_end)
    ).scalar()
    return int(revision or 0)


def evaluate_quality(
    connection: Connection,
    *,
    monitor_id: int,
    window_end: datetime,
    reference: ReferenceDataset,
    schema: ModelSchema,
    settings: QualitySettings,
    table: pa.Table,
) -> WindowQuality | None:
    """The window's quality on the labels stored now; None where the monitor turned quality off
    or the reference had no labels (no baseline to judge against)."""
    if not settings.enabled or not reference.performance_baseline or table.num_rows == 0:
        return None
    # Read before the labels: a label batch landing meanwhile bumps past it (stays stale).
    revision = label_revision(connection, monitor_id, window_end)
    baseline = PerformanceBaseline.from_json(reference.performance_baseline)
    rules = performance_rules(baseline, settings)
    predictions = window_predictions(table, schema)
    labels = window_labels(connection, reference.model_id, table)
    realized = realized_performance(baseline, predictions, labels, rules=rules)
    estimated = _estimate(reference, baseline, settings, predictions, rules)
    times = table.column(TIMESTAMP)
    return WindowQuality(
        metrics=tuple(
            MetricQuality(
                realized=result,
                estimated=estimated.result(rule.metric.value) if estimated else None,
                min_labels=rule.min_labels,
            )
            for rule, result in zip(rules, realized.results, strict=True)
        ),
        n_records=table.num_rows,
        first_record_at=pc.min(times).as_py(),
        last_record_at=pc.max(times).as_py(),
        label_revision=revision,
    )


def _estimate(
    reference: ReferenceDataset,
    baseline: PerformanceBaseline,
    settings: QualitySettings,
    predictions: Values,
    rules: tuple[PerformanceRule, ...],
) -> PerformanceReport | None:
    scored = isinstance(predictions, np.ndarray) and predictions.ndim == 2
    if not (settings.estimate and scored and reference.performance_estimator):
        return None
    estimator = PerformanceEstimator.from_json(reference.performance_estimator)
    return estimate_performance(estimator, baseline, predictions, rules=rules)


def evaluate_multivariate(
    reference: ReferenceDataset, settings: QualitySettings, table: pa.Table
) -> MultivariateDriftResult | None:
    """The window's multivariate drift; None where turned off or the reference has no profile."""
    if not settings.multivariate or not reference.multivariate_profile:
        return None
    profile = MultivariateProfile.from_json(reference.multivariate_profile)
    return multivariate_drift(
        profile, frame_for(table, profile), std_factor=settings.multivariate_std_factor
    )
