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

from detectors.chunks import chunk_slices
from detectors.documents import StoredDocument
from detectors.labelled import LabelledRows, as_task, resolve_class_labels
from detectors.metrics import Metric, as_metric, task_metrics, undefined
from detectors.outputs import Values
from detectors.prediction import Task
from detectors.results import PerformanceReport
from detectors.rules import REALIZED, MetricBaseline, PerformanceRule, judge, report
from detectors.validation import check_int


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
            parts = [rows.metric(metric, part) for part in chunk_slices(rows.n, chunks)]
            defined = [part for part in parts if not math.isnan(part.value)]
            chunk_variance = sum(p.sampling_variance() for p in defined) / max(len(defined), 1)
            fitted.append(
                MetricBaseline(
                    metric,
                    whole.value,
                    tuple(part.value for part in defined),
                    variance=whole.sampling_variance(),
                    chunk_rows=rows.n // chunks,
                    chunk_variance=chunk_variance,
                )
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
