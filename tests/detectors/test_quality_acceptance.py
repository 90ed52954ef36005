"""The issue's acceptance scenarios for model quality, on seeded generated data.

Both use the binary world of ``quality_factories``: features x ~ N(0, I_3) (+ shift), labels
y ~ Bernoulli(sigmoid(x @ w - 0.3)), and a fixed, miscalibrated model scoring
sigmoid(0.6 * x @ (1.2, -0.8, 0.5) + 0.2).

Concept drift: reference of 10,000 rows with w = (1.2, -0.8, 0.5); windows of 2,000 rows with the
same P(x). Windows 0 and 1 keep w; from window 2 on, w = (0, -0.8, 0.5) (the first feature stops
mattering). Window 2's labels arrive late: it is judged when 2%, 5%, 25% and 100% of them are
known (40, 100, 500, 2,000 labels; the default rules want 100).

Covariate shift: reference of 20,000 rows; 100 windows of 2,000 rows whose features are shifted
by a seeded N(0, 0.5^2) draw per feature, P(y | x) unchanged. Each window's ROC AUC is estimated
from its scores alone and then realized from its labels.
"""

from __future__ import annotations

import functools

import numpy as np

from detectors import (
    PerformanceBaseline,
    PerformanceEstimator,
    PerformanceReport,
    ReferenceProfile,
    detect_drift,
    estimate_performance,
    realized_performance,
)
from tests.detectors.quality_factories import (
    SCHEMA,
    Sample,
    binary_sample,
    with_missing_labels,
)

NEW_CONCEPT = np.array([0.0, -0.8, 0.5])
LABELLED_SHARES = (0.02, 0.05, 0.25, 1.0)


@functools.cache
def concept_reference() -> tuple[Sample, PerformanceBaseline]:
    reference = binary_sample(10_000, seed=31)
    baseline = PerformanceBaseline.fit(reference.scores, reference.labels, "binary_classification")
    return reference, baseline


def concept_window(index: int) -> Sample:
    weights = NEW_CONCEPT if index >= 2 else None
    if weights is None:
        return binary_sample(2_000, seed=40 + index)
    return binary_sample(2_000, seed=40 + index, weights=weights)


def test_concept_drift_leaves_feature_drift_quiet() -> None:
    reference, _ = concept_reference()
    profile = ReferenceProfile.fit(reference.features, SCHEMA)
    reports = [detect_drift(profile, concept_window(i).features) for i in range(6)]
    assert [report.drifted_features for report in reports] == [()] * 6


def test_windows_before_the_concept_change_are_not_degraded() -> None:
    _, baseline = concept_reference()
    windows = [concept_window(i) for i in (0, 1)]
    reports = [realized_performance(baseline, w.scores, w.labels) for w in windows]
    assert [report.degraded for report in reports] == [False, False]


def realized_as_labels_arrive(window: Sample) -> list[PerformanceReport]:
    _, baseline = concept_reference()
    return [
        realized_performance(
            baseline, window.scores, with_missing_labels(window.labels, int(2_000 * share))
        )
        for share in LABELLED_SHARES
    ]


def test_concept_drift_is_flagged_as_soon_as_the_first_changed_window_has_enough_labels() -> None:
    reports = realized_as_labels_arrive(concept_window(2))
    assert [report.degraded for report in reports] == [False, True, True, True]
    assert {"accuracy", "roc_auc"} <= set(reports[1].degraded_metrics)


def test_concept_drift_below_the_minimum_labels_says_a_verdict_must_wait() -> None:
    first = realized_as_labels_arrive(concept_window(2))[0].result("roc_auc")
    assert first.message == "only 40 labelled rows; at least 100 needed for a verdict"


def test_the_estimate_misses_concept_drift_so_realized_quality_is_needed() -> None:
    reference, baseline = concept_reference()
    estimator = PerformanceEstimator.fit(
        reference.scores, reference.labels, "binary_classification"
    )
    window = concept_window(2)
    assert not estimate_performance(estimator, baseline, window.scores).degraded
    assert realized_performance(baseline, window.scores, window.labels).degraded


@functools.cache
def covariate_shift_pairs() -> tuple[tuple[float, float, float, float], ...]:
    """(estimated, ci_low, ci_high, realized) ROC AUC per window."""
    reference = binary_sample(20_000, seed=51)
    estimator = PerformanceEstimator.fit(
        reference.scores, reference.labels, "binary_classification"
    )
    baseline = PerformanceBaseline.fit(reference.scores, reference.labels, "binary_classification")
    shifts = np.random.default_rng(52).normal(0.0, 0.5, size=(100, 3))
    pairs = []
    for index, shift in enumerate(shifts):
        window = binary_sample(2_000, seed=1_000 + index, shift=tuple(shift))
        estimated = estimate_performance(estimator, baseline, window.scores).result("roc_auc")
        realized = realized_performance(baseline, window.scores, window.labels).result("roc_auc")
        pairs.append((estimated.value, estimated.ci_low, estimated.ci_high, realized.value))
    return tuple(pairs)


def test_estimated_roc_auc_is_within_0_01_of_realized_on_average_under_covariate_shift() -> None:
    estimated, _, _, realized = np.array(covariate_shift_pairs()).T
    assert np.mean(np.abs(estimated - realized)) <= 0.01


def test_realized_roc_auc_is_in_the_estimated_interval_in_90_percent_of_windows() -> None:
    _, low, high, realized = np.array(covariate_shift_pairs()).T
    assert np.mean((low <= realized) & (realized <= high)) >= 0.9
