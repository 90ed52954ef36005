"""Realized metrics equal scikit-learn's; their intervals and the estimates' label variance hold.

Data: seeded outputs of the generators in ``quality_factories`` (binary scores rounded to two
decimals so ties occur; multiclass tempered-softmax probabilities; regression as truth plus
noise).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as sk

from detectors.metrics import ClassifierRows, Metric, classification_metric, one_hot, task_metrics
from detectors.performance import PerformanceBaseline, realized_performance
from detectors.prediction import Task
from tests.detectors.quality_factories import CLASSES, binary_sample, multiclass_sample

BINARY: dict[str, Callable[[Any, Any, Any], float]] = {
    "accuracy": lambda y, scores, predicted: sk.accuracy_score(y, predicted),
    "precision": lambda y, scores, predicted: sk.precision_score(y, predicted),
    "recall": lambda y, scores, predicted: sk.recall_score(y, predicted),
    "f1": lambda y, scores, predicted: sk.f1_score(y, predicted),
    "roc_auc": lambda y, scores, predicted: sk.roc_auc_score(y, scores),
    "log_loss": lambda y, scores, predicted: sk.log_loss(y, scores),
}
MULTICLASS: dict[str, Callable[[Any, Any, Any], float]] = {
    "accuracy": lambda y, scores, predicted: sk.accuracy_score(y, predicted),
    "precision": lambda y, s, p: sk.precision_score(y, p, average="macro"),
    "recall": lambda y, s, p: sk.recall_score(y, p, average="macro"),
    "f1": lambda y, s, p: sk.f1_score(y, p, average="macro"),
    "roc_auc": lambda y, scores, p: sk.roc_auc_score(y, scores, multi_class="ovr", labels=CLASSES),
    "log_loss": lambda y, scores, predicted: sk.log_loss(y, scores, labels=CLASSES),
}
REGRESSION: dict[str, Callable[[Any, Any], float]] = {
    "mae": sk.mean_absolute_error,
    "rmse": sk.root_mean_squared_error,
    "mape": sk.mean_absolute_percentage_error,
}


@pytest.mark.parametrize("metric", sorted(BINARY))
def test_binary_metrics_match_scikit_learn(metric: str) -> None:
    sample = binary_sample(3_000, seed=1)
    scores = np.round(sample.scores, 2)
    baseline = PerformanceBaseline.fit(scores, sample.labels, "binary_classification")
    result = realized_performance(baseline, scores, sample.labels).result(metric)
    expected = BINARY[metric](sample.labels, scores, (scores >= 0.5).astype(int))
    assert result.value == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("metric", sorted(MULTICLASS))
def test_multiclass_metrics_match_scikit_learn(metric: str) -> None:
    scores, labels = multiclass_sample(3_000, seed=2)
    baseline = PerformanceBaseline.fit(scores, labels, "multiclass_classification", CLASSES)
    result = realized_performance(baseline, scores, labels).result(metric)
    predicted = np.asarray(CLASSES)[scores.argmax(axis=1)]
    assert result.value == pytest.approx(MULTICLASS[metric](labels, scores, predicted), abs=1e-9)


@pytest.mark.parametrize("metric", sorted(REGRESSION))
def test_regression_metrics_match_scikit_learn(metric: str) -> None:
    rng = np.random.default_rng(3)
    actual = rng.normal(10, 3, 2_000)
    predicted = actual + rng.normal(0, 1, 2_000)
    baseline = PerformanceBaseline.fit(predicted, actual, "regression")
    result = realized_performance(baseline, predicted, actual).result(metric)
    assert result.value == pytest.approx(REGRESSION[metric](actual, predicted), abs=1e-9)


def test_probability_mappings_give_the_metrics_of_the_probability_array() -> None:
    scores, labels = multiclass_sample(500, seed=4)
    mappings = [dict(zip(CLASSES, row, strict=True)) for row in scores.tolist()]
    baseline = PerformanceBaseline.fit(scores, labels, "multiclass_classification", CLASSES)
    from_array = realized_performance(baseline, scores, labels)
    assert realized_performance(baseline, mappings, labels) == from_array


def test_labels_match_classes_by_text_so_1_and_1_0_and_one_string_agree() -> None:
    sample = binary_sample(1_000, seed=5)
    baseline = PerformanceBaseline.fit(sample.scores, sample.labels, "binary_classification")
    as_text = [str(label) for label in sample.labels]
    as_floats = sample.labels.astype(float)
    assert realized_performance(baseline, sample.scores, as_text) == realized_performance(
        baseline, sample.scores, as_floats
    )


def test_roc_auc_standard_error_is_delongs() -> None:
    sample = binary_sample(400, seed=6)
    scores, labels = np.round(sample.scores, 2), sample.labels
    baseline = PerformanceBaseline.fit(scores, labels, "binary_classification")
    result = realized_performance(baseline, scores, labels).result("roc_auc")
    positives, negatives = scores[labels == 1], scores[labels == 0]
    kernel = (positives[:, None] > negatives).astype(float)
    kernel += 0.5 * (positives[:, None] == negatives)
    auc = kernel.mean()
    variance = (
        kernel.mean(axis=1).var() / positives.size + kernel.mean(axis=0).var() / negatives.size
    )
    assert result.value == pytest.approx(auc, abs=1e-12)
    assert result.standard_error == pytest.approx(np.sqrt(variance), rel=1e-9)


def test_realized_intervals_cover_the_population_value_in_about_95_percent_of_windows() -> None:
    population = binary_sample(400_000, seed=7)
    baseline = PerformanceBaseline.fit(
        population.scores, population.labels, "binary_classification"
    )
    truth = {m.metric.value: m.value for m in baseline.metrics}
    covered = []
    for seed in range(200):
        window = binary_sample(1_000, seed=1_000 + seed)
        report = realized_performance(baseline, window.scores, window.labels)
        covered.append([r.ci_low <= truth[r.metric] <= r.ci_high for r in report.results])
    coverage = np.mean(covered, axis=0)
    assert np.all((coverage >= 0.9) & (coverage <= 0.99)), dict(zip(truth, coverage, strict=True))


def test_expected_roc_auc_is_the_weighted_count_over_pairs_of_distinct_rows() -> None:
    rng = np.random.default_rng(8)
    scores = np.round(rng.random(300), 1)
    p = rng.random(300)
    rows = ClassifierRows(
        np.column_stack([1 - p, p]),
        (scores >= 0.5).astype(np.int64),
        np.column_stack([1 - scores, scores]),
        (1,),
        ("0", "1"),
    )
    weight = p[:, None] * (1 - p)[None, :]
    np.fill_diagonal(weight, 0.0)
    above = (scores[:, None] > scores[None, :]) + 0.5 * (scores[:, None] == scores[None, :])
    expected = (weight * above).sum() / weight.sum()
    assert classification_metric(Metric.ROC_AUC, rows).value == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    "metric", task_metrics(Task.BINARY_CLASSIFICATION, probabilities=True), ids=str
)
def test_label_variance_matches_the_spread_of_simulated_labels(metric: Metric) -> None:
    rng = np.random.default_rng(9)
    scores = np.round(rng.random(1_000), 2)
    p = np.clip(scores + rng.normal(0, 0.1, 1_000), 0.01, 0.99)
    outcome = np.column_stack([1 - p, p])
    predicted = (scores >= 0.5).astype(np.int64)
    probabilities = np.column_stack([1 - scores, scores])

    def rows(outcome: np.ndarray[Any, Any]) -> ClassifierRows:
        return ClassifierRows(outcome, predicted, probabilities, (1,), ("0", "1"))

    expected = classification_metric(metric, rows(outcome))
    draws = [
        classification_metric(
            metric, rows(one_hot((rng.random(1_000) < p).astype(np.int64), 2))
        ).value
        for _ in range(400)
    ]
    assert np.std(draws) == pytest.approx(np.sqrt(expected.label_variance(outcome)), rel=0.12)
    assert np.mean(draws) == pytest.approx(expected.value, abs=3 * np.std(draws) / 20)
