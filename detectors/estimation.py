"""Classifier quality estimated before labels arrive: confidence-based performance estimation.

Fit a :class:`PerformanceEstimator` on the reference's scores and labels: isotonic regression maps
the model's score for a class to the observed frequency of that class (binary: the positive
class; multiclass: one-vs-rest per class, each row then normalised to sum to 1). For a window,
the calibrated probabilities stand in for the unknown labels and every metric becomes its
expectation: the expected confusion matrix for accuracy, precision, recall and F1, expected log
loss, and ROC AUC as a Mann-Whitney statistic where each row counts ``p`` as a positive and
``1 - p`` as a negative (ranked by the model's own score).

The interval is where the realized figure of the window's rows should fall: its variance adds
the label noise (each row's label drawn from its calibrated probability) and the calibration's
own uncertainty (each isotonic block's probability is an estimate from its reference rows), both
by the delta method (see :mod:`detectors.metrics`). CBPE assumes covariate shift only (P(y | score)
unchanged); under concept drift the estimate stays put while realized quality falls, which is
why both are reported side by side.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from detectors.calibration import IsotonicCalibration, Placement
from detectors.columns import FloatArray
from detectors.documents import StoredDocument
from detectors.labelled import LabelledRows, as_task, averaged_classes, resolve_class_labels
from detectors.metrics import ClassifierRows, MetricValue, classification_metric, one_hot, undefined
from detectors.outputs import Values, read_class_indices, read_classifier_outputs
from detectors.performance import PerformanceBaseline
from detectors.prediction import Task
from detectors.results import PerformanceReport
from detectors.rules import ESTIMATED, PerformanceRule, judge, report

# The method of an estimate corrected by the labels already arrived (prediction-powered).
ESTIMATED_WITH_LABELS = "estimated_with_labels"


@dataclass(frozen=True, slots=True, eq=False)
class CalibratedScores:
    """A window's scores through the estimator: calibrated ``probabilities`` (rows x classes),
    each calibrated class's placement among its blocks (see
    :meth:`IsotonicCalibration.placement`), for multiclass models the row sums before
    normalising, and per class the rows below and above the reference's score range; all but
    the first are what the calibration variance needs."""

    probabilities: FloatArray
    placements: tuple[Placement, ...]
    totals: FloatArray | None
    beyond: tuple[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]], ...] = ()


@dataclass(frozen=True, slots=True)
class PerformanceEstimator(StoredDocument):
    """Calibration of a classifier's scores on the reference, for estimating quality without
    labels. ``calibrations`` holds one map for a binary model (the positive class,
    ``class_labels[1]``) and one per class for a multiclass model. Store :meth:`to_json` next to
    the :class:`~detectors.performance.PerformanceBaseline`.

    >>> estimator = PerformanceEstimator.fit(
    ...     [0.1, 0.4, 0.35, 0.8, 0.7, 0.2], [0, 0, 1, 1, 1, 0], "binary_classification"
    ... )
    >>> estimator.calibrate(np.array([[0.9, 0.1], [0.3, 0.7]])).probabilities.tolist()
    [[0.75, 0.25], [0.25, 0.75]]
    >>> PerformanceEstimator.from_json(estimator.to_json()) == estimator
    True
    """

    FORMAT: ClassVar[str] = "detectors.PerformanceEstimator"
    VERSION: ClassVar[int] = 1

    task: Task
    class_labels: tuple[str, ...]
    calibrations: tuple[IsotonicCalibration, ...]

    @property
    def n_rows(self) -> int:
        """The labelled reference rows with scores it was calibrated on."""
        return sum(self.calibrations[0].rows)

    @classmethod
    def fit(
        cls,
        predictions: Values,
        labels: Values,
        task: Task | str,
        class_labels: Sequence[Any] = (),
    ) -> PerformanceEstimator:
        """Calibrate on the reference rows with a label and class probabilities (scores)."""
        task = as_task(task)
        if task is Task.REGRESSION:
            raise ValueError("performance estimation is for classifiers; the task is regression")
        texts = resolve_class_labels(predictions, labels, task, class_labels)
        rows = LabelledRows.read(predictions, labels, task, texts).classifier
        if rows is None or rows.probabilities is None:
            raise ValueError(
                "the reference predictions are classes only; estimation needs the class "
                "probabilities (scores) the model logs"
            )
        present = int(np.count_nonzero(rows.outcome.sum(axis=0)))
        if present < 2:
            raise ValueError(
                f"the reference holds {present} class(es) among {rows.n} labelled rows with "
                "scores; calibration needs at least two"
            )
        calibrations = tuple(
            IsotonicCalibration.fit(rows.probabilities[:, k], rows.outcome[:, k])
            for k in rows.averaged
        )
        return cls(task, texts, calibrations)

    def calibrate(self, probabilities: FloatArray) -> CalibratedScores:
        """Calibrated class probabilities (rows x classes) from the model's own ones; a
        multiclass row whose calibrated scores are all 0 becomes uniform."""
        classes = averaged_classes(self.task, self.class_labels)
        placements = tuple(
            c.placement(probabilities[:, k])
            for k, c in zip(classes, self.calibrations, strict=True)
        )
        beyond = tuple(
            c.beyond(probabilities[:, k]) for k, c in zip(classes, self.calibrations, strict=True)
        )
        raw = np.column_stack(
            [c.interpolate(p) for c, p in zip(self.calibrations, placements, strict=True)]
        )
        if self.task is Task.BINARY_CLASSIFICATION:
            binary = np.column_stack([1.0 - raw[:, 0], raw[:, 0]])
            return CalibratedScores(binary, placements, None, beyond)
        totals = raw.sum(axis=1, keepdims=True)
        uniform = np.full_like(raw, 1.0 / raw.shape[1])
        calibrated = np.divide(raw, totals, out=uniform, where=totals > 0)
        return CalibratedScores(calibrated, placements, totals, beyond)

    def calibration_variance(self, scores: CalibratedScores, gradient: FloatArray) -> float:
        """Variance of an estimate from the calibration's own uncertainty: ``gradient`` is the
        estimate's derivative by the calibrated probabilities (rows x classes); each block's
        probability varies independently by :meth:`IsotonicCalibration.block_variances`, and
        the probability of scores beyond the reference's range by
        :meth:`IsotonicCalibration.extrapolation_variances` (one unknown per side, shared by
        all the rows there), so a window that leaves the reference's scores widens it."""
        if scores.totals is None:
            slopes = (gradient[:, 1] - gradient[:, 0])[:, None]
        else:
            # Normalising couples the classes: d P_j / d raw_k = ([j = k] - P_j) / total.
            calibrated, totals = scores.probabilities, scores.totals
            centred = gradient - np.einsum("ij,ij->i", gradient, calibrated)[:, None]
            slopes = np.divide(centred, totals, out=np.zeros_like(centred), where=totals > 0)
        variance = 0.0
        for k, (calibration, (below, above, t)) in enumerate(
            zip(self.calibrations, scores.placements, strict=True)
        ):
            blocks = len(calibration.rows)
            slope = slopes[:, k]
            sensitivity = np.bincount(below, slope * (1 - t), blocks)
            sensitivity += np.bincount(above, slope * t, blocks)
            variance += float(np.dot(sensitivity**2, calibration.block_variances()))
            if scores.beyond:
                low, high = scores.beyond[k]
                under, over = calibration.extrapolation_variances()
                variance += float(slope[low].sum()) ** 2 * under
                variance += float(slope[high].sum()) ** 2 * over
        return variance

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.header(),
            "task": self.task.value,
            "class_labels": list(self.class_labels),
            "calibrations": [c.to_dict() for c in self.calibrations],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PerformanceEstimator:
        cls.check_header(data)
        return cls(
            Task(data["task"]),
            tuple(data["class_labels"]),
            tuple(IsotonicCalibration.from_dict(c) for c in data["calibrations"]),
        )


def estimate_performance(
    estimator: PerformanceEstimator,
    baseline: PerformanceBaseline,
    predictions: Values,
    *,
    rules: Iterable[PerformanceRule] | None = None,
    labels: Values | None = None,
) -> PerformanceReport:
    """Estimated quality of one window from its predictions alone, judged by ``rules`` against
    ``baseline`` like a realized figure; results carry ``method="estimated"``. Rows without a
    usable score are left out (and counted in ``message``).

    ``labels`` (row by row with ``predictions``, None or NaN where not arrived) correct the
    estimate with the labels already in (``method="estimated_with_labels"``, prediction-powered
    inference): the label-free estimate on every row plus the rectifier, realized minus
    label-free on the labelled rows. The rectifier sees a change of P(y | score), which the
    label-free estimate cannot; its variance (delta method on the labelled rows) widens the
    interval when the labels are few or disagree with the scores. The labelled rows must be a
    random sample of the window.

    >>> rng = np.random.default_rng(0)
    >>> scores = rng.random(4_000)
    >>> labels = (rng.random(4_000) < scores).astype(int)
    >>> estimator = PerformanceEstimator.fit(scores, labels, "binary_classification")
    >>> baseline = PerformanceBaseline.fit(scores, labels, "binary_classification")
    >>> window = rng.random(1_000) ** 0.5  # covariate shift: more rows with high scores
    >>> estimated = estimate_performance(estimator, baseline, window).result("roc_auc")
    >>> from detectors.performance import realized_performance
    >>> window_labels = (rng.random(1_000) < window).astype(int)  # arriving later
    >>> realized = realized_performance(baseline, window, window_labels).result("roc_auc")
    >>> estimated.method, round(estimated.value, 3), round(realized.value, 3)
    ('estimated', 0.789, 0.801)
    >>> estimated.ci_low < realized.value < estimated.ci_high
    True
    """
    if (estimator.task, estimator.class_labels) != (baseline.task, baseline.class_labels):
        raise ValueError(
            f"the estimator ({estimator.task.value}, classes {list(estimator.class_labels)!r}) "
            f"and the baseline ({baseline.task.value}, classes {list(baseline.class_labels)!r}) "
            "describe different models"
        )
    chosen = baseline.rules_or_default(rules)
    outputs = read_classifier_outputs(predictions, estimator.task, estimator.class_labels)
    n_window = len(predictions)
    probabilities = outputs.probabilities
    if probabilities is None:
        if np.any(outputs.predicted >= 0):
            raise ValueError(
                "the predictions are classes only; estimation needs the class probabilities"
            )
        probabilities = np.full((n_window, len(estimator.class_labels)), np.nan)
    usable = np.isfinite(probabilities).all(axis=1) & (outputs.predicted >= 0)
    n_used = int(usable.sum())
    notes = (
        [f"{n_window - n_used} rows without a usable score left out"] if n_used < n_window else []
    )
    probabilities = probabilities[usable]
    calibrated = estimator.calibrate(probabilities)
    rows = ClassifierRows(
        calibrated.probabilities,
        outputs.predicted[usable],
        probabilities,
        averaged_classes(estimator.task, estimator.class_labels),
        estimator.class_labels,
    )
    labelled = _labelled_rows(estimator, rows, labels, usable)
    method = ESTIMATED if labelled is None else ESTIMATED_WITH_LABELS
    results = []
    for rule in chosen:
        if n_used == 0:
            value = undefined("no rows with a usable score")
        else:
            value = classification_metric(rule.metric, rows)
        error = math.nan
        if value.label_gradient is not None:
            variance = value.label_variance(calibrated.probabilities)
            variance += estimator.calibration_variance(calibrated, value.label_gradient)
            error = math.sqrt(variance)
        rule_notes = notes
        if labelled is not None and not math.isnan(value.value):
            value, error, note = _rectified(rule, value, error, *labelled)
            rule_notes = [*notes, note]
        results.append(
            judge(
                rule,
                baseline.metric(rule.metric),
                value,
                error,
                method=method,
                n_used=n_used,
                n_window=n_window,
                notes=rule_notes,
            )
        )
    return report(method, results, 0, n_window)


def _labelled_rows(
    estimator: PerformanceEstimator,
    rows: ClassifierRows,
    labels: Values | None,
    usable: np.ndarray[Any, np.dtype[np.bool_]],
) -> tuple[ClassifierRows, ClassifierRows] | None:
    """The labelled rows twice: with their labels, and with their calibrated probabilities."""
    if labels is None:
        return None
    if len(labels) != usable.size:
        raise ValueError(f"got {usable.size} predictions but {len(labels)} labels")
    truth = read_class_indices(labels, estimator.class_labels)[usable]
    known = truth >= 0
    if not known.any():
        return None
    scores = None if rows.probabilities is None else rows.probabilities[known]

    def subset(outcome: FloatArray) -> ClassifierRows:
        return ClassifierRows(
            outcome, rows.predicted[known], scores, rows.averaged, rows.class_labels
        )

    actual = subset(one_hot(truth[known], len(estimator.class_labels)))
    return actual, subset(rows.outcome[known])


def _rectified(
    rule: PerformanceRule,
    estimate: MetricValue,
    error: float,
    actual: ClassifierRows,
    expected: ClassifierRows,
) -> tuple[MetricValue, float, str]:
    realized = classification_metric(rule.metric, actual)
    predicted = classification_metric(rule.metric, expected)
    if math.isnan(realized.value) or math.isnan(predicted.value):
        return estimate, error, f"labels not used for {rule.metric.value}: {realized.message}"
    rectifier = realized.value - predicted.value
    if realized.influence.shape == predicted.influence.shape:
        spread = realized.influence - predicted.influence
        rectifier_variance = float(np.dot(spread, spread))
    else:
        rectifier_variance = realized.sampling_variance() + predicted.sampling_variance()
    # Unshrunk: shrinking the rectifier towards 0 when it is noisy cut the error with no shift
    # but left the truth outside the interval in a third of concept-shifted windows (measured).
    value = MetricValue(
        estimate.value + rectifier, estimate.influence, estimate.label_gradient, estimate.message
    )
    note = (
        f"label-free estimate {estimate.value:.4f} corrected by {rectifier:+.4f} from "
        f"{actual.n} labelled rows"
    )
    return value, math.sqrt(error**2 + rectifier_variance), note
