"""Realized model quality per window from late labels, judged against the reference's own quality.

Fit a :class:`PerformanceBaseline` once on the reference's predictions and labels and store
``baseline.to_json()``; whenever labels for a window arrive (and again as more arrive), call
:func:`realized_performance` with the window's predictions and the labels known so far. Each
metric is judged by a :class:`PerformanceRule`: the alert bound sits a margin away from the
reference value (the largest of an absolute drop, a relative drop and a multiple of the metric's
standard deviation across reference chunks) and a window is degraded only when its value is
beyond the bound *and* its confidence interval excludes the reference value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy import stats

from detectors.chunks import chunk_slices
from detectors.columns import FloatArray
from detectors.documents import StoredDocument
from detectors.metrics import (
    ClassifierRows,
    Metric,
    MetricValue,
    as_metric,
    classification_metric,
    one_hot,
    regression_metric,
    task_metrics,
    undefined,
)
from detectors.outputs import (
    UNKNOWN_CLASS,
    Values,
    class_label_texts,
    infer_class_labels,
    read_class_indices,
    read_classifier_outputs,
    read_numbers,
)
from detectors.prediction import Task
from detectors.results import PerformanceReport, PerformanceResult
from detectors.validation import check_float, check_int

REALIZED = "realized"
ESTIMATED = "estimated"


@dataclass(frozen=True, slots=True)
class PerformanceRule:
    """When one metric counts as degraded, relative to the reference.

    The margin is the largest of the configured parts: ``max_drop`` (absolute), ``relative_drop``
    (share of the reference value) and ``std_factor`` times the metric's standard deviation
    across reference chunks. A drop in quality is a fall for metrics where higher is better and
    a rise for losses (log loss, MAE, RMSE, MAPE). ``min_labels`` is the fewest rows a verdict
    needs (labelled rows for realized figures, scored rows for estimates); ``confidence`` sets
    the interval.

    >>> rule = PerformanceRule("roc_auc", max_drop=0.03)
    >>> PerformanceRule.from_dict(rule.to_dict()) == rule
    True
    >>> PerformanceRule("roc_auc", max_drop=None, std_factor=None)
    Traceback (most recent call last):
    ...
    ValueError: rule for 'roc_auc' needs max_drop, relative_drop or std_factor
    """

    metric: Metric
    max_drop: float | None = None
    relative_drop: float | None = None
    std_factor: float | None = 3.0
    min_labels: int = 100
    confidence: float = 0.95

    def __post_init__(self) -> None:
        object.__setattr__(self, "metric", as_metric(self.metric))
        if self.max_drop is not None:
            check_float("max_drop", self.max_drop, 0.0, math.inf, open_low=False)
        if self.relative_drop is not None:
            check_float("relative_drop", self.relative_drop, 0.0, 1.0, open_low=False)
        if self.std_factor is not None:
            check_float("std_factor", self.std_factor, 0.0, 100.0, open_low=False)
        if self.max_drop is None and self.relative_drop is None and self.std_factor is None:
            raise ValueError(
                f"rule for {self.metric.value!r} needs max_drop, relative_drop or std_factor"
            )
        check_int("min_labels", self.min_labels, 1, 1_000_000_000)
        check_float("confidence", self.confidence, 0.5, 0.999, open_low=False)

    def margin(self, reference: MetricBaseline) -> float:
        parts = [0.0]
        if self.max_drop is not None:
            parts.append(self.max_drop)
        if self.relative_drop is not None:
            parts.append(self.relative_drop * abs(reference.value))
        if self.std_factor is not None:
            parts.append(self.std_factor * reference.chunk_std)
        return max(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric.value,
            "max_drop": self.max_drop,
            "relative_drop": self.relative_drop,
            "std_factor": self.std_factor,
            "min_labels": self.min_labels,
            "confidence": self.confidence,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PerformanceRule:
        return cls(**data)


@dataclass(frozen=True, slots=True)
class MetricBaseline:
    """A metric on the whole reference and on each of its consecutive chunks (chunks where the
    metric is undefined, e.g. holding one class only, are left out)."""

    metric: Metric
    value: float
    chunk_values: tuple[float, ...]

    @property
    def chunk_std(self) -> float:
        """Sample standard deviation across chunks (0 with fewer than two chunks)."""
        if len(self.chunk_values) < 2:
            return 0.0
        return float(np.std(self.chunk_values, ddof=1))

    def chunk_quantile(self, q: float) -> float:
        return float(np.quantile(self.chunk_values, q)) if self.chunk_values else self.value

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric.value,
            "value": self.value,
            "chunk_values": list(self.chunk_values),
            "chunk_std": self.chunk_std,
            "chunk_p05": self.chunk_quantile(0.05),
            "chunk_p95": self.chunk_quantile(0.95),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MetricBaseline:
        return cls(Metric(data["metric"]), data["value"], tuple(data["chunk_values"]))


@dataclass(frozen=True, slots=True, eq=False)
class LabelledRows:
    """A model's outputs paired with labels, reduced to the rows where both are usable.

    ``n_rows`` counts every row given; ``n_unlabelled`` rows without a label yet;
    ``n_unknown_labels`` labels that are not among the classes; ``n_unusable`` labelled rows
    whose prediction is missing or malformed.
    """

    task: Task
    n_rows: int
    n_unlabelled: int
    n_unknown_labels: int
    n_unusable: int
    classifier: ClassifierRows | None
    predicted: FloatArray
    actual: FloatArray

    @property
    def n(self) -> int:
        return self.classifier.n if self.classifier is not None else int(self.actual.size)

    @property
    def has_probabilities(self) -> bool:
        return self.classifier is not None and self.classifier.probabilities is not None

    @classmethod
    def read(
        cls, predictions: Values, labels: Values, task: Task, class_labels: tuple[str, ...]
    ) -> LabelledRows:
        n_rows = len(predictions)
        if len(labels) != n_rows:
            raise ValueError(f"got {n_rows} predictions but {len(labels)} labels")
        empty = np.empty(0)
        if task is Task.REGRESSION:
            predicted, actual = read_numbers(predictions), read_numbers(labels)
            labelled = ~np.isnan(actual)
            usable = labelled & ~np.isnan(predicted)
            counts = _counts(n_rows, labelled, 0, usable)
            return cls(
                task, **counts, classifier=None, predicted=predicted[usable], actual=actual[usable]
            )
        outputs = read_classifier_outputs(predictions, task, class_labels)
        truth = read_class_indices(labels, class_labels)
        labelled = truth >= 0
        usable = labelled & outputs.usable
        unknown = int(np.count_nonzero(truth == UNKNOWN_CLASS))
        probabilities = outputs.probabilities
        rows = ClassifierRows(
            outcome=one_hot(truth[usable], len(class_labels)),
            predicted=outputs.predicted[usable],
            probabilities=None if probabilities is None else probabilities[usable],
            averaged=averaged_classes(task, class_labels),
            class_labels=class_labels,
        )
        counts = _counts(n_rows, labelled | (truth == UNKNOWN_CLASS), unknown, usable)
        return cls(task, **counts, classifier=rows, predicted=empty, actual=empty)

    def metric(self, metric: Metric, part: slice = slice(None)) -> MetricValue:
        """``metric`` on all usable rows, or on the consecutive ``part`` of them."""
        if self.classifier is not None:
            rows = self.classifier
            chosen = ClassifierRows(
                rows.outcome[part],
                rows.predicted[part],
                None if rows.probabilities is None else rows.probabilities[part],
                rows.averaged,
                rows.class_labels,
            )
            if chosen.n == 0:
                return undefined("no labelled rows")
            return classification_metric(metric, chosen)
        if self.actual[part].size == 0:
            return undefined("no labelled rows")
        return regression_metric(metric, self.predicted[part], self.actual[part])

    def notes(self) -> list[str]:
        notes = []
        if self.n_unknown_labels:
            notes.append(f"{self.n_unknown_labels} labels not among the class labels left out")
        if self.n_unusable:
            notes.append(f"{self.n_unusable} labelled rows without a usable prediction left out")
        return notes


@dataclass(frozen=True, slots=True)
class PerformanceBaseline(StoredDocument):
    """The reference's own quality: each metric on the whole reference and across its chunks.

    Fit it once when a reference with labels is uploaded, store :meth:`to_json`, and load it with
    :meth:`from_json` for every window. ``class_labels`` are text (``class_labels[1]`` is the
    positive class of a binary model); ``n_rows`` counts the labelled reference rows used.

    >>> baseline = PerformanceBaseline.fit(
    ...     [0.9, 0.2, 0.8, 0.3, 0.6, 0.4], [1, 0, 1, 0, 0, 1], "binary_classification", chunks=2
    ... )
    >>> baseline.metric("roc_auc").value, baseline.metric("roc_auc").chunk_values
    (0.8888888888888888, (1.0, 0.5))
    >>> PerformanceBaseline.from_json(baseline.to_json()) == baseline
    True
    """

    FORMAT: ClassVar[str] = "detectors.PerformanceBaseline"
    VERSION: ClassVar[int] = 1

    task: Task
    class_labels: tuple[str, ...]
    n_rows: int
    chunks: int
    metrics: tuple[MetricBaseline, ...]

    @classmethod
    def fit(
        cls,
        predictions: Values,
        labels: Values,
        task: Task | str,
        class_labels: Sequence[Any] = (),
        *,
        chunks: int = 10,
        metrics: Iterable[Metric | str] | None = None,
    ) -> PerformanceBaseline:
        """Compute ``metrics`` (default: every metric the task and the logged outputs support)
        on the labelled reference rows and on ``chunks`` consecutive, equal parts of them (in
        the reference's order, so a time-ordered reference shows its drift over time).

        ``predictions`` are as logged (see :mod:`detectors.outputs`); ``class_labels`` default
        to the sorted labels seen (``("0", "1")`` for a binary model logging scores).
        """
        task = as_task(task)
        check_int("chunks", chunks, 1, 1_000)
        texts = resolve_class_labels(predictions, labels, task, class_labels)
        rows = LabelledRows.read(predictions, labels, task, texts)
        if rows.n < 2 * chunks:
            notes = "".join(f"; {note}" for note in rows.notes())
            raise ValueError(
                f"reference has {rows.n} labelled rows with a usable prediction; "
                f"at least {2 * chunks} are needed for {chunks} chunks{notes}"
            )
        chosen = _chosen_metrics(task, rows, metrics)
        fitted = []
        for metric in chosen:
            whole = rows.metric(metric)
            if math.isnan(whole.value):
                raise ValueError(f"cannot fit the baseline on the reference: {whole.message}")
            values = (rows.metric(metric, part).value for part in chunk_slices(rows.n, chunks))
            fitted.append(
                MetricBaseline(metric, whole.value, tuple(v for v in values if not math.isnan(v)))
            )
        return cls(task, texts, rows.n, chunks, tuple(fitted))

    def metric(self, name: Metric | str) -> MetricBaseline:
        for metric in self.metrics:
            if metric.metric == name:
                return metric
        raise KeyError(f"the baseline has no metric {str(name)!r}")

    def default_rules(self) -> tuple[PerformanceRule, ...]:
        """``PerformanceRule(metric)`` with its defaults for every baseline metric."""
        return tuple(PerformanceRule(m.metric) for m in self.metrics)

    def rules_or_default(
        self, rules: Iterable[PerformanceRule] | None
    ) -> tuple[PerformanceRule, ...]:
        """``rules``, checked against the baseline, or the defaults when None."""
        if rules is None:
            return self.default_rules()
        chosen = tuple(rules)
        names = {m.metric for m in self.metrics}
        for rule in chosen:
            if rule.metric not in names:
                raise ValueError(
                    f"rule for {rule.metric.value!r}, a metric the baseline lacks; it has "
                    f"{', '.join(m.metric.value for m in self.metrics)}"
                )
        return chosen

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.header(),
            "task": self.task.value,
            "class_labels": list(self.class_labels),
            "n_rows": self.n_rows,
            "chunks": self.chunks,
            "metrics": [m.to_dict() for m in self.metrics],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PerformanceBaseline:
        cls.check_header(data)
        return cls(
            Task(data["task"]),
            tuple(data["class_labels"]),
            data["n_rows"],
            data["chunks"],
            tuple(MetricBaseline.from_dict(m) for m in data["metrics"]),
        )


def realized_performance(
    baseline: PerformanceBaseline,
    predictions: Values,
    labels: Values,
    *,
    rules: Iterable[PerformanceRule] | None = None,
    n_window: int | None = None,
) -> PerformanceReport:
    """Quality of one window on the labels known so far, judged by ``rules`` (default: the
    baseline's default rules).

    ``labels`` pairs with ``predictions`` row by row; a missing label (None, NaN) is a row not
    labelled yet. ``n_window`` is the window's row count when only the labelled rows are passed
    (default: ``len(predictions)``). Call it again as late labels arrive: the result records
    ``n_labelled`` and ``label_completeness``. Intervals: the delta-method (influence-function)
    standard error, DeLong's for ROC AUC, with a normal interval.

    >>> classes = [1, 0, 1, 0] * 50
    >>> baseline = PerformanceBaseline.fit(classes, classes, "binary_classification")
    >>> report = realized_performance(baseline, classes, [0, 0, 0, 0] * 50)
    >>> report.result("accuracy").value, report.result("accuracy").degraded, report.degraded
    (0.5, True, True)
    >>> report.result("recall").message
    "recall is undefined: no labels of class '1'"
    """
    chosen = baseline.rules_or_default(rules)
    rows = LabelledRows.read(predictions, labels, baseline.task, baseline.class_labels)
    size = rows.n_rows if n_window is None else n_window
    if isinstance(size, bool) or not isinstance(size, int) or size < rows.n:
        raise ValueError(
            f"n_window must be an integer of at least the {rows.n} labelled rows, got {n_window!r}"
        )
    notes = rows.notes()
    results = []
    for rule in chosen:
        if rows.n == 0:
            value = undefined(f"no labelled rows yet (0 of {size})")
        else:
            value = rows.metric(rule.metric)
        results.append(
            judge(
                rule,
                baseline.metric(rule.metric),
                value,
                math.sqrt(value.sampling_variance()),
                method=REALIZED,
                n_used=rows.n,
                n_window=size,
                notes=notes,
            )
        )
    return report(REALIZED, results, rows.n, size)


def judge(
    rule: PerformanceRule,
    reference: MetricBaseline,
    value: MetricValue,
    standard_error: float,
    *,
    method: str,
    n_used: int,
    n_window: int,
    notes: Sequence[str] = (),
) -> PerformanceResult:
    """The result for one metric: interval, bounds and the degradation verdict (see
    :class:`detectors.results.PerformanceResult`)."""
    metric = rule.metric
    margin = rule.margin(reference)
    higher = metric.higher_is_better
    lower_bound = reference.value - margin if higher else None
    upper_bound = None if higher else reference.value + margin
    messages = [*notes]
    if value.message:
        messages.insert(0, value.message)
    z = float(stats.norm.ppf(0.5 + rule.confidence / 2))
    ci_low = max(value.value - z * standard_error, 0.0)
    ci_high = min(value.value + z * standard_error, metric.upper_limit)
    beyond = (
        value.value < reference.value - margin and ci_high < reference.value
        if higher
        else value.value > reference.value + margin and ci_low > reference.value
    )
    enough = n_used >= rule.min_labels
    if not math.isnan(value.value) and not enough:
        what = "labelled" if method == REALIZED else "scored"
        messages.append(
            f"only {n_used} {what} rows; at least {rule.min_labels} needed for a verdict"
        )
    n_labelled = n_used if method == REALIZED else 0
    return PerformanceResult(
        metric=metric.value,
        method=method,
        value=value.value,
        ci_low=ci_low if not math.isnan(value.value) else math.nan,
        ci_high=ci_high if not math.isnan(value.value) else math.nan,
        standard_error=standard_error if not math.isnan(value.value) else math.nan,
        confidence=rule.confidence,
        n_labelled=n_labelled,
        n_window=n_window,
        label_completeness=n_labelled / n_window if n_window else 0.0,
        reference=reference.value,
        lower_bound=lower_bound,
        upper_bound=upper_bound,
        higher_is_better=higher,
        degraded=bool(enough and beyond),
        message="; ".join(messages) or None,
    )


def report(
    method: str, results: Sequence[PerformanceResult], n_labelled: int, n_window: int
) -> PerformanceReport:
    labelled = n_labelled if method == REALIZED else 0
    return PerformanceReport(
        method=method,
        results=tuple(results),
        n_labelled=labelled,
        n_window=n_window,
        label_completeness=labelled / n_window if n_window else 0.0,
        degraded=any(r.degraded for r in results),
    )


def as_task(task: Task | str) -> Task:
    try:
        return Task(task)
    except ValueError:
        valid = ", ".join(t.value for t in Task)
        raise ValueError(f"task must be one of {valid}, got {task!r}") from None


def resolve_class_labels(
    predictions: Values, labels: Values, task: Task, given: Sequence[Any]
) -> tuple[str, ...]:
    if task is Task.REGRESSION:
        return ()
    texts = class_label_texts(given) if given else infer_class_labels(predictions, labels, task)
    if task is Task.BINARY_CLASSIFICATION and len(texts) != 2:
        raise ValueError(
            f"a binary model needs two class labels (negative, positive), got {list(texts)!r}"
        )
    if len(texts) < 2:
        raise ValueError(f"a classifier needs at least two class labels, got {list(texts)!r}")
    return texts


def averaged_classes(task: Task, class_labels: tuple[str, ...]) -> tuple[int, ...]:
    return (1,) if task is Task.BINARY_CLASSIFICATION else tuple(range(len(class_labels)))


def _chosen_metrics(
    task: Task, rows: LabelledRows, metrics: Iterable[Metric | str] | None
) -> tuple[Metric, ...]:
    supported = task_metrics(task, probabilities=rows.has_probabilities)
    if metrics is None:
        return supported
    chosen = tuple(dict.fromkeys(as_metric(m) for m in metrics))
    for metric in chosen:
        if metric not in supported:
            reason = (
                "the predictions carry no class probabilities"
                if metric.supports(task)
                else f"it does not apply to {task.value}"
            )
            raise ValueError(f"cannot compute {metric.value}: {reason}")
    return chosen


def _counts(
    n_rows: int,
    labelled: np.ndarray[Any, np.dtype[np.bool_]],
    unknown: int,
    usable: np.ndarray[Any, np.dtype[np.bool_]],
) -> dict[str, int]:
    n_labelled = int(np.count_nonzero(labelled))
    return {
        "n_rows": n_rows,
        "n_unlabelled": n_rows - n_labelled,
        "n_unknown_labels": unknown,
        "n_unusable": n_labelled - unknown - int(np.count_nonzero(usable)),
    }
