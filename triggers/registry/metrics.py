"""Model-quality metrics on a labelled set, per task, vectorised with numpy (no scikit-learn at
run time). Each returns None where the data cannot define it (one class only, no scores)."""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

PROBABILITY_FLOOR = 1e-15

BINARY = "binary_classification"
MULTICLASS = "multiclass_classification"
REGRESSION = "regression"
TASKS = (BINARY, MULTICLASS, REGRESSION)


class Metric(StrEnum):
    ACCURACY = "accuracy"
    F1 = "f1"  # binary: of the positive class (the second class label); multiclass: macro
    ROC_AUC = "roc_auc"  # binary: of the positive-class score; multiclass: one-vs-rest, macro
    LOG_LOSS = "log_loss"
    MAE = "mae"
    RMSE = "rmse"

    @property
    def higher_is_better(self) -> bool:
        return self in (Metric.ACCURACY, Metric.F1, Metric.ROC_AUC)


CLASSIFICATION_METRICS = (Metric.ACCURACY, Metric.F1, Metric.ROC_AUC, Metric.LOG_LOSS)
REGRESSION_METRICS = (Metric.MAE, Metric.RMSE)


def metrics_for(task: str) -> tuple[Metric, ...]:
    if task not in TASKS:
        raise ValueError(f"task: {task!r} is not one of {', '.join(TASKS)}")
    return REGRESSION_METRICS if task == REGRESSION else CLASSIFICATION_METRICS


@dataclass(frozen=True, slots=True)
class Predictions:
    """A model's outputs on the labelled set: predicted labels (classification, as strings) or
    values (regression), and class probabilities with their column order when the model has
    them."""

    values: npt.NDArray[np.generic]
    probabilities: npt.NDArray[np.float64] | None = None
    classes: tuple[str, ...] = ()


def _auc(positive: npt.NDArray[np.bool_], scores: npt.NDArray[np.float64]) -> float | None:
    """ROC AUC as the Mann-Whitney U statistic over ranks (ties averaged)."""
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    # Imported here: scipy.stats takes most of a second to load, and this module's enums are
    # read by the entities every `monitor` command imports.
    from scipy.stats import rankdata

    ranks = rankdata(scores)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _f1(truth: npt.NDArray[np.str_], predicted: npt.NDArray[np.str_], label: str) -> float:
    true_positive = np.sum((truth == label) & (predicted == label))
    denominator = np.sum(truth == label) + np.sum(predicted == label)
    return float(2 * true_positive / denominator) if denominator else 0.0


def _class_scores(predictions: Predictions, labels: Sequence[str]) -> npt.NDArray[np.float64]:
    """Probabilities with one column per label in `labels` (0 for a class the model lacks)."""
    assert predictions.probabilities is not None
    columns = {label: index for index, label in enumerate(predictions.classes)}
    scores = np.zeros((predictions.probabilities.shape[0], len(labels)))
    for position, label in enumerate(labels):
        if label in columns:
            scores[:, position] = predictions.probabilities[:, columns[label]]
    return scores


def classification_metrics(
    truth: Sequence[str], predictions: Predictions, class_labels: Sequence[str], task: str
) -> dict[Metric, float | None]:
    actual = np.asarray(truth, dtype=str)
    predicted = np.asarray(predictions.values, dtype=str)
    metrics: dict[Metric, float | None] = {
        Metric.ACCURACY: float(np.mean(actual == predicted)) if actual.size else None
    }
    if task == BINARY:
        metrics[Metric.F1] = _f1(actual, predicted, class_labels[1])
    else:
        present = sorted(set(actual) | set(predicted))
        metrics[Metric.F1] = float(np.mean([_f1(actual, predicted, c) for c in present]))
    if predictions.probabilities is None or not actual.size:
        metrics[Metric.ROC_AUC] = metrics[Metric.LOG_LOSS] = None
        return metrics
    scores = _class_scores(predictions, class_labels)
    if task == BINARY:
        metrics[Metric.ROC_AUC] = _auc(actual == class_labels[1], scores[:, 1])
    else:
        aucs = [_auc(actual == label, scores[:, i]) for i, label in enumerate(class_labels)]
        defined = [auc for auc in aucs if auc is not None]
        metrics[Metric.ROC_AUC] = float(np.mean(defined)) if defined else None
    normalised = scores / np.clip(scores.sum(axis=1, keepdims=True), PROBABILITY_FLOOR, None)
    index = {label: i for i, label in enumerate(class_labels)}
    truth_columns = np.array([index.get(label, -1) for label in actual])
    known = truth_columns >= 0
    picked = np.where(known, normalised[np.arange(actual.size), truth_columns], 0.0)
    metrics[Metric.LOG_LOSS] = float(-np.mean(np.log(np.clip(picked, PROBABILITY_FLOOR, 1.0))))
    return metrics


def regression_metrics(
    truth: Sequence[float], predictions: Predictions
) -> dict[Metric, float | None]:
    actual = np.asarray(truth, dtype=float)
    errors = np.asarray(predictions.values, dtype=float) - actual
    if not actual.size:
        return {Metric.MAE: None, Metric.RMSE: None}
    return {
        Metric.MAE: float(np.mean(np.abs(errors))),
        Metric.RMSE: float(np.sqrt(np.mean(errors**2))),
    }


def task_metrics(
    task: str, truth: Sequence[object], predictions: Predictions, class_labels: Sequence[str]
) -> dict[Metric, float | None]:
    metrics_for(task)
    if task == REGRESSION:
        return regression_metrics([float(v) for v in truth], predictions)  # type: ignore[arg-type]
    return classification_metrics([str(v) for v in truth], predictions, class_labels, task)
