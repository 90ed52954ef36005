"""A window's model quality: its predictions joined to the labels known so far on `request_id`,
realized against the reference baseline, estimated from scores, plus multivariate drift."""

import json
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
    MultivariateWindow,
    PerformanceBaseline,
    PerformanceEstimator,
    PerformanceReport,
    PerformanceResult,
    PerformanceRule,
    estimate_performance,
    judge_multivariate,
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
from monitor.windows.sample import RowSample
from monitor.windows.segments import (
    REQUEST_ID,
    TIMESTAMP,
    prediction_fields,
    score_columns,
    segment_schema,
)

_label = GroundTruthLabel.__table__  # type: ignore[attr-defined]
_record = InferenceRecord.__table__  # type: ignore[attr-defined]
_result = QualityResult.__table__  # type: ignore[attr-defined]
_LABEL = "__label__"  # the labelled rows' label, as JSON text
# Exact for windows of up to this many rows (labelled rows, rows estimated on), sampled above.
QUALITY_ROWS = 1_000_000
SAMPLE_SEED = 0


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


def window_predictions(table: pa.Table, schema: ModelSchema, *, scored: bool) -> Values:
    """The window's outputs as the performance detectors read them: class probabilities (rows x
    classes, NaN rows where a record logged no scores) when any record of the window logged
    scores (`scored`), else the predicted classes or values."""
    if schema.task is Task.REGRESSION:
        values: np.ndarray[Any, Any] = table.column(PREDICTION).to_numpy()
        return values
    if scored:
        columns = [table.column(name) for name in score_columns(schema)]
        scores = np.column_stack(
            [column.to_numpy(zero_copy_only=False) for column in columns]
        ).astype(np.float64)
        if schema.task is Task.BINARY_CLASSIFICATION:
            return np.column_stack([1.0 - scores[:, 0], scores[:, 0]])
        return scores
    classes: pd.Series = table.column(PREDICTION).to_pandas()
    return classes


def any_scores(table: pa.Table, schema: ModelSchema) -> bool:
    """Whether any record of `table` logged class scores."""
    columns = [table.column(name) for name in score_columns(schema)]
    return schema.task is not Task.REGRESSION and any(
        column.null_count < len(column) for column in columns
    )


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


class QualityRows:
    """What quality reads of a window, gathered batch by batch: the labelled rows' outputs with
    their labels, a bounded sample of all rows' outputs for estimation, the row count and the
    time span. Both row sets are exact up to `capacity` rows and a seeded uniform sample above."""

    def __init__(self, schema: ModelSchema, capacity: int = QUALITY_ROWS) -> None:
        self.schema = schema
        self.columns = [field.name for field in prediction_fields(schema)]
        self.labelled = RowSample(capacity, seed=SAMPLE_SEED)
        self.outputs = RowSample(capacity, seed=SAMPLE_SEED + 1)
        self.scored = False
        self.n_records = 0
        self.first_record_at: datetime | None = None
        self.last_record_at: datetime | None = None

    @property
    def read_columns(self) -> list[str]:
        """The window columns `add` reads."""
        return [*self.columns, REQUEST_ID, TIMESTAMP]

    def add(self, connection: Connection, model_id: int, batch: pa.Table) -> None:
        """Fold in a batch holding the `read_columns`."""
        if batch.num_rows == 0:
            return
        times = batch.column(TIMESTAMP)
        first, last = pc.min(times).as_py(), pc.max(times).as_py()
        self.first_record_at = min(first, self.first_record_at or first)
        self.last_record_at = max(last, self.last_record_at or last)
        self.n_records += batch.num_rows
        outputs = batch.select(self.columns)
        self.scored = self.scored or any_scores(outputs, self.schema)
        self.outputs.add(outputs)
        labels = window_labels(connection, model_id, batch)
        known = labels.notna().to_numpy()
        if known.any():
            encoded = pa.array([json.dumps(v) for v in labels[known]], pa.string())
            self.labelled.add(outputs.filter(pa.array(known)).append_column(_LABEL, encoded))

    def merge(self, other: "QualityRows") -> None:
        """Fold in the rows of another, disjoint, part of the same window."""
        self.n_records += other.n_records
        self.scored = self.scored or other.scored
        self.labelled.merge(other.labelled)
        self.outputs.merge(other.outputs)
        firsts = [t for t in (self.first_record_at, other.first_record_at) if t is not None]
        lasts = [t for t in (self.last_record_at, other.last_record_at) if t is not None]
        self.first_record_at = min(firsts, default=None)
        self.last_record_at = max(lasts, default=None)

    def predictions(self, table: pa.Table) -> Values:
        return window_predictions(table, self.schema, scored=self.scored)

    def labelled_rows(self) -> tuple[Values, pd.Series]:
        """The labelled rows' outputs and their labels, row for row."""
        schema = segment_schema(self.schema)
        table = self.labelled.table(
            pa.schema([*(schema.field(name) for name in self.columns), (_LABEL, pa.string())])
        )
        labels = [json.loads(text) for text in table.column(_LABEL).to_pylist()]
        return self.predictions(table), pd.Series(labels, dtype=object)


def wants_quality(reference: ReferenceDataset, settings: QualitySettings) -> bool:
    """Whether a window is judged for quality: the monitor asks, and the reference had labels
    (a baseline to judge against)."""
    return settings.enabled and reference.performance_baseline is not None


def evaluate_quality(
    *,
    reference: ReferenceDataset,
    settings: QualitySettings,
    rows: QualityRows,
    revision: int,
) -> WindowQuality | None:
    """The window's quality on the labels read into `rows`; None where the window is empty.
    `revision` is `label_revision` read before the labels were (a label batch landing meanwhile
    bumps past it, so the result stays stale)."""
    if rows.n_records == 0 or rows.first_record_at is None or rows.last_record_at is None:
        return None
    assert reference.performance_baseline is not None
    baseline = PerformanceBaseline.from_json(reference.performance_baseline)
    rules = performance_rules(baseline, settings)
    predictions, labels = rows.labelled_rows()
    realized = realized_performance(
        baseline, predictions, labels, rules=rules, n_window=rows.n_records
    )
    sample = rows.predictions(rows.outputs.table(segment_schema(rows.schema)))
    estimated = _estimate(reference, baseline, settings, sample, rules)
    return WindowQuality(
        metrics=tuple(
            MetricQuality(
                realized=result,
                estimated=estimated.result(rule.metric.value) if estimated else None,
                min_labels=rule.min_labels,
            )
            for rule, result in zip(rules, realized.results, strict=True)
        ),
        n_records=rows.n_records,
        first_record_at=rows.first_record_at,
        last_record_at=rows.last_record_at,
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
    profile: MultivariateProfile, settings: QualitySettings, window: MultivariateWindow
) -> MultivariateDriftResult:
    """The window's multivariate drift from its summary."""
    return judge_multivariate(profile, window, std_factor=settings.multivariate_std_factor)


def multivariate_profile(
    reference: ReferenceDataset, settings: QualitySettings
) -> MultivariateProfile | None:
    """The profile a window's multivariate drift is judged on; None where turned off or the
    reference has none."""
    if not settings.multivariate or not reference.multivariate_profile:
        return None
    return MultivariateProfile.from_json(reference.multivariate_profile)
