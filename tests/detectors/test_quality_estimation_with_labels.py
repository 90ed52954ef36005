"""Estimated quality corrected by the labels already arrived (prediction-powered inference).

Data: scores from x @ w; the reference's labels follow sigmoid(x @ w - 0.3). Under the concept
shift, in a region holding half the rows, they follow sigmoid(0.3 x @ w + 0.8) instead, which the
scores cannot show. Windows of 2,000 rows with 5% of their labels arrived at random.
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt

from detectors import PerformanceBaseline, realized_performance
from detectors.estimation import PerformanceEstimator, estimate_performance

WEIGHTS = np.array([1.2, -0.8, 0.5])
WINDOWS = 30


def sigmoid(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return 1 / (1 + np.exp(-z))


def draw(
    rng: np.random.Generator, rows: int, concept_shift: bool
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    x = rng.standard_normal((rows, 3))
    logit = x @ WEIGHTS - 0.3
    if concept_shift:
        logit = np.where(rng.random(rows) < 0.5, 0.3 * (x @ WEIGHTS) + 0.8, logit)
    labels = (rng.random(rows) < sigmoid(logit)).astype(np.int64)
    return sigmoid(0.6 * (x @ WEIGHTS) + 0.2), labels


@functools.cache
def fitted() -> tuple[PerformanceEstimator, PerformanceBaseline]:
    scores, labels = draw(np.random.default_rng(0), 20_000, concept_shift=False)
    return (
        PerformanceEstimator.fit(scores, labels, "binary_classification"),
        PerformanceBaseline.fit(scores, labels, "binary_classification"),
    )


def arrived(rng: np.random.Generator, labels: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    return np.where(rng.random(labels.size) < 0.05, labels.astype(np.float64), np.nan)


def test_five_percent_of_labels_halve_the_error_under_concept_shift_with_honest_intervals() -> None:
    estimator, baseline = fitted()
    free_errors, errors, covered = [], [], []
    for seed in range(1, WINDOWS + 1):
        rng = np.random.default_rng(seed)
        scores, labels = draw(rng, 2_000, concept_shift=True)
        truth = realized_performance(baseline, scores, labels).result("roc_auc").value
        free = estimate_performance(estimator, baseline, scores).result("roc_auc")
        corrected = estimate_performance(
            estimator, baseline, scores, labels=arrived(rng, labels)
        ).result("roc_auc")
        free_errors.append(abs(free.value - truth))
        errors.append(abs(corrected.value - truth))
        covered.append(corrected.ci_low <= truth <= corrected.ci_high)
    assert np.mean(errors) <= np.mean(free_errors) / 2
    assert np.mean(covered) >= 0.8


def test_a_corrected_figure_names_its_method_and_the_correction() -> None:
    estimator, baseline = fitted()
    rng = np.random.default_rng(1)
    scores, labels = draw(rng, 2_000, concept_shift=True)
    report = estimate_performance(estimator, baseline, scores, labels=arrived(rng, labels))
    result = report.result("roc_auc")
    assert (report.method, result.method) == ("estimated_with_labels",) * 2
    assert result.message is not None and "labelled rows" in result.message


def test_without_arrived_labels_the_estimate_is_the_label_free_one() -> None:
    estimator, baseline = fitted()
    scores, _ = draw(np.random.default_rng(2), 2_000, concept_shift=False)
    none_arrived = estimate_performance(estimator, baseline, scores, labels=[None] * 2_000)
    assert none_arrived == estimate_performance(estimator, baseline, scores)
