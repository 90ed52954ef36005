"""Model-performance metrics with their first-order variances, for realized and estimated quality.

Every classification metric is written over an ``outcome`` matrix (rows x classes): the one-hot
labels for a realized figure, the calibrated class probabilities for an estimate. With one-hot
labels each formula is the ordinary metric (the tests check scikit-learn's values to 1e-9); with
probabilities it is the expected metric (CBPE: the expected confusion matrix, and ROC AUC as a
Mann-Whitney statistic where each row counts ``p`` as a positive and ``1 - p`` as a negative).

Each value comes with two linearisations, both O(n) after at most one sort per class:

- ``influence``: d value / d row weight (the infinitesimal jackknife); ``sum(influence**2)`` is
  the variance under resampling rows, DeLong's variance for ROC AUC. It measures how well a
  realized figure pins down the model's quality on the window's population.
- ``label_gradient``: d value / d label indicator. With the rows fixed and each row's label drawn
  from its row of ``outcome``, :meth:`MetricValue.label_variance` is how far the realized figure
  of these very rows may fall from the estimate.

Precision, recall and F1 are the positive class's (``class_labels[1]``) for binary models and the
unweighted mean over classes (macro) for multiclass ones; ROC AUC is one-vs-rest macro for
multiclass. A class enters the macro mean where the metric is defined on the window: recall and
ROC AUC need labels of the class (ROC AUC also labels of another), precision and F1 labels or
predictions of it; a class predicted but never labelled scores precision 0, as scikit-learn's
``zero_division=0`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from detectors.columns import FloatArray, IntArray
from detectors.prediction import Task

_CLIP = float(np.finfo(np.float64).eps)


class Metric(StrEnum):
    ACCURACY = "accuracy"
    PRECISION = "precision"
    RECALL = "recall"
    F1 = "f1"
    ROC_AUC = "roc_auc"
    LOG_LOSS = "log_loss"
    MAE = "mae"
    RMSE = "rmse"
    MAPE = "mape"

    @property
    def higher_is_better(self) -> bool:
        return self not in _LOSSES

    @property
    def needs_probabilities(self) -> bool:
        """Whether the model must log class probabilities (scores) for the metric."""
        return self in (Metric.ROC_AUC, Metric.LOG_LOSS)

    @property
    def upper_limit(self) -> float:
        """The largest value the metric can take (intervals are clipped to it and to 0)."""
        return np.inf if self in _LOSSES else 1.0

    def supports(self, task: Task) -> bool:
        return (self in _REGRESSION) == (task is Task.REGRESSION)


_LOSSES = frozenset({Metric.LOG_LOSS, Metric.MAE, Metric.RMSE, Metric.MAPE})
_REGRESSION = (Metric.MAE, Metric.RMSE, Metric.MAPE)


def task_metrics(task: Task, *, probabilities: bool) -> tuple[Metric, ...]:
    """The metrics a model of ``task`` supports; ROC AUC and log loss only with probabilities.

    >>> [m.value for m in task_metrics(Task.REGRESSION, probabilities=False)]
    ['mae', 'rmse', 'mape']
    """
    return tuple(
        m for m in Metric if m.supports(task) and (probabilities or not m.needs_probabilities)
    )


@dataclass(frozen=True, slots=True, eq=False)
class MetricValue:
    """A metric's value, its linearisations (see the module docstring) and why it is undefined
    (NaN value) or was averaged over fewer classes than the model has."""

    value: float
    influence: FloatArray
    label_gradient: FloatArray | None
    message: str | None = None

    def sampling_variance(self) -> float:
        return float(np.dot(self.influence, self.influence))

    def label_variance(self, outcome: FloatArray) -> float:
        """Variance of the metric when each row's label is drawn from its row of ``outcome``."""
        if self.label_gradient is None:
            return 0.0
        mean = np.einsum("ij,ij->i", outcome, self.label_gradient)
        second = np.einsum("ij,ij->i", outcome, self.label_gradient**2)
        return float(max(np.sum(second - mean**2), 0.0))


def undefined(message: str) -> MetricValue:
    return MetricValue(np.nan, np.empty(0), None, message)


@dataclass(frozen=True, slots=True, eq=False)
class ClassifierRows:
    """The rows a classification metric is computed on.

    ``outcome`` is rows x classes (one-hot labels or calibrated probabilities), ``predicted`` the
    model's class per row, ``probabilities`` the model's own class probabilities (None when it
    logged classes only), ``averaged`` the classes precision/recall/F1/ROC AUC are taken over
    (the positive class for binary models, all classes for multiclass ones).
    """

    outcome: FloatArray
    predicted: IntArray
    probabilities: FloatArray | None
    averaged: tuple[int, ...]
    class_labels: tuple[str, ...]

    @property
    def n(self) -> int:
        return int(self.predicted.size)

    @property
    def predicted_one_hot(self) -> FloatArray:
        one_hot = np.zeros_like(self.outcome)
        one_hot[np.arange(self.n), self.predicted] = 1.0
        return one_hot


# A per-class metric: (value, influence, label gradient of class k's indicator) or None when
# undefined for the class on these rows.
ClassScore = tuple[float, FloatArray, FloatArray] | None


def classification_metric(metric: Metric, rows: ClassifierRows) -> MetricValue:
    """One classification metric on ``rows`` (at least one row)."""
    if metric.needs_probabilities and rows.probabilities is None:
        return undefined(f"{metric.value} needs class probabilities; the model logged classes")
    if metric is Metric.ACCURACY:
        return _accuracy(rows)
    if metric is Metric.LOG_LOSS:
        return _log_loss(rows)
    return _class_average(metric, rows, _PER_CLASS[metric])


def regression_metric(metric: Metric, predicted: FloatArray, actual: FloatArray) -> MetricValue:
    """One regression metric on paired finite values (at least one pair); MAPE divides by
    ``max(|actual|, machine epsilon)`` as scikit-learn does."""
    n = predicted.size
    error = predicted - actual
    if metric is Metric.RMSE:
        squared = error**2
        mse = float(squared.mean())
        rmse = float(np.sqrt(mse))
        influence = (squared - mse) / (2 * n * rmse) if rmse > 0 else np.zeros(n)
        return MetricValue(rmse, influence, None)
    loss = np.abs(error)
    if metric is Metric.MAPE:
        loss = loss / np.maximum(np.abs(actual), _CLIP)
    return _mean(loss, None)


def _mean(loss: FloatArray, gradient: FloatArray | None) -> MetricValue:
    value = float(loss.mean())
    return MetricValue(value, (loss - value) / loss.size, gradient)


def _accuracy(rows: ClassifierRows) -> MetricValue:
    correct = rows.outcome[np.arange(rows.n), rows.predicted]
    return _mean(correct, rows.predicted_one_hot / rows.n)


def _log_loss(rows: ClassifierRows) -> MetricValue:
    assert rows.probabilities is not None
    surprise = -np.log(np.clip(rows.probabilities, _CLIP, 1 - _CLIP))
    return _mean(np.einsum("ij,ij->i", rows.outcome, surprise), surprise / rows.n)


def _class_average(
    metric: Metric, rows: ClassifierRows, score: Callable[[ClassifierRows, int], ClassScore]
) -> MetricValue:
    values, influence = [], np.zeros(rows.n)
    # Filled class by class, so rows x classes is built as its transpose (contiguous writes).
    gradient = np.zeros((rows.outcome.shape[1], rows.n))
    left_out = []
    for k in rows.averaged:
        scored = score(rows, k)
        if scored is None:
            left_out.append(rows.class_labels[k])
            continue
        values.append(scored[0])
        influence += scored[1]
        gradient[k] = scored[2]
    if not values:
        reason = (
            "the labels hold one class only"
            if metric is Metric.ROC_AUC
            else _missing_classes(metric, left_out)
        )
        return undefined(f"{metric.value} is undefined: {reason}")
    count = len(values)
    message = None
    if left_out:
        message = (
            f"{metric.value} averaged over {count} of {len(rows.averaged)} classes: "
            f"{_missing_classes(metric, left_out)}"
        )
    return MetricValue(float(np.mean(values)), influence / count, gradient.T / count, message)


def _missing_classes(metric: Metric, classes: list[str]) -> str:
    named = ", ".join(repr(c) for c in classes)
    if metric in (Metric.RECALL, Metric.ROC_AUC):
        return f"no labels of class {named}"
    return f"no labels or predictions of class {named}"


def _class_counts(rows: ClassifierRows, k: int) -> tuple[FloatArray, FloatArray, float, float]:
    """Class k's label mass per row, predicted indicator per row, and their totals."""
    mass = rows.outcome[:, k]
    is_predicted = (rows.predicted == k).astype(np.float64)
    return mass, is_predicted, float(mass.sum()), float(is_predicted.sum())


def _precision(rows: ClassifierRows, k: int) -> ClassScore:
    mass, is_predicted, labelled, predicted = _class_counts(rows, k)
    if predicted == 0:
        return None if labelled == 0 else (0.0, np.zeros(rows.n), np.zeros(rows.n))
    value = float(np.dot(mass, is_predicted)) / predicted
    return value, is_predicted * (mass - value) / predicted, is_predicted / predicted


def _recall(rows: ClassifierRows, k: int) -> ClassScore:
    mass, is_predicted, labelled, _ = _class_counts(rows, k)
    if labelled == 0:
        return None
    value = float(np.dot(mass, is_predicted)) / labelled
    return value, mass * (is_predicted - value) / labelled, (is_predicted - value) / labelled


def _f1(rows: ClassifierRows, k: int) -> ClassScore:
    mass, is_predicted, labelled, predicted = _class_counts(rows, k)
    total = labelled + predicted
    if total == 0:
        return None
    value = 2 * float(np.dot(mass, is_predicted)) / total
    influence = (2 * is_predicted * mass - value * (is_predicted + mass)) / total
    return value, influence, (2 * is_predicted - value) / total


def _roc_auc(rows: ClassifierRows, k: int) -> ClassScore:
    """Weighted Mann-Whitney: pairs (i, j), i != j, count ``a_i * b_j`` (1 if s_i > s_j, 1/2 if
    tied) over ``sum a * sum b - sum a_i b_i``, with a = P(class k), b = 1 - a."""
    assert rows.probabilities is not None
    positive = rows.outcome[:, k]
    order = np.argsort(rows.probabilities[:, k], kind="stable")
    scores, a = rows.probabilities[order, k], positive[order]
    b = 1.0 - a
    new_group = np.empty(scores.size, dtype=bool)
    new_group[0] = True
    np.not_equal(scores[1:], scores[:-1], out=new_group[1:])
    starts = np.flatnonzero(new_group)
    group = np.cumsum(new_group) - 1
    a_group, b_group = np.add.reduceat(a, starts), np.add.reduceat(b, starts)
    a_total, b_total = float(a_group.sum()), float(b_group.sum())
    pairs = a_total * b_total - float(np.dot(a, b))
    if pairs <= 0 or a_total == 0 or b_total == 0:
        return None
    # Negative mass below each row and positive mass above it, ties counted half, self excluded.
    b_below = (np.cumsum(b_group) - b_group)[group] + 0.5 * (b_group[group] - b)
    a_above = (a_total - np.cumsum(a_group))[group] + 0.5 * (a_group[group] - a)
    value = float(np.dot(a, b_below)) / pairs
    by_weight = a * b_below + b * a_above - value * (a * (b_total - b) + b * (a_total - a))
    by_label = b_below - a_above - value * ((b_total - b) - (a_total - a))
    influence, gradient = np.empty(rows.n), np.empty(rows.n)
    influence[order] = by_weight / pairs
    gradient[order] = by_label / pairs
    return value, influence, gradient


_PER_CLASS: dict[Metric, Callable[[ClassifierRows, int], ClassScore]] = {
    Metric.PRECISION: _precision,
    Metric.RECALL: _recall,
    Metric.F1: _f1,
    Metric.ROC_AUC: _roc_auc,
}


def one_hot(indices: IntArray, classes: int) -> FloatArray:
    out = np.zeros((indices.size, classes), order="F")
    out[np.arange(indices.size), indices] = 1.0
    return out


def as_metric(value: Any) -> Metric:
    """A metric from its name, with a ValueError naming the valid ones."""
    try:
        return Metric(value)
    except ValueError:
        valid = ", ".join(m.value for m in Metric)
        raise ValueError(f"metric must be one of {valid}, got {value!r}") from None
