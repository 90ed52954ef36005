"""Isotonic calibration and confidence-based performance estimation (CBPE).

Data: the seeded binary and multiclass worlds of ``quality_factories`` and small hand-written
score/label sets.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression

from detectors import (
    PerformanceBaseline,
    PerformanceEstimator,
    estimate_performance,
    realized_performance,
)
from detectors.calibration import IsotonicCalibration
from tests.detectors.quality_factories import CLASSES, binary_sample, multiclass_sample


@functools.cache
def fitted() -> tuple[PerformanceEstimator, PerformanceBaseline]:
    reference = binary_sample(5_000, seed=61)
    return (
        PerformanceEstimator.fit(reference.scores, reference.labels, "binary_classification"),
        PerformanceBaseline.fit(reference.scores, reference.labels, "binary_classification"),
    )


def test_calibration_stays_close_to_scikit_learn_isotonic_regression() -> None:
    sample = binary_sample(20_000, seed=62)
    calibrated = IsotonicCalibration.fit(sample.scores, sample.labels).apply(sample.scores)
    plain = IsotonicRegression(out_of_bounds="clip").fit(sample.scores, sample.labels)
    assert np.mean(np.abs(calibrated - plain.predict(sample.scores))) < 0.005


def test_calibration_pools_violators_and_smooths_each_block_by_the_rule_of_succession() -> None:
    scores = np.repeat([1.0, 2.0, 3.0], 10)
    outcomes = np.r_[np.zeros(8), np.ones(2), np.ones(6), np.zeros(4), np.ones(3), np.zeros(7)]
    calibration = IsotonicCalibration.fit(scores, outcomes)
    assert (calibration.lows, calibration.highs, calibration.rows) == (
        (1.0, 2.0),
        (1.0, 3.0),
        (10, 20),
    )
    assert calibration.probabilities == pytest.approx((3 / 12, 10 / 22))


def test_calibration_is_non_decreasing_in_the_score() -> None:
    sample = binary_sample(5_000, seed=63)
    calibrated = IsotonicCalibration.fit(sample.scores, sample.labels).apply(np.sort(sample.scores))
    assert np.all(np.diff(calibrated) >= 0)


def test_pure_end_blocks_are_kept_off_zero_and_one() -> None:
    calibration = IsotonicCalibration.fit(np.arange(10.0), np.array([0] * 5 + [1] * 5))
    assert calibration.probabilities == (1 / 7, 6 / 7)


def test_estimator_round_trips_through_json() -> None:
    estimator, _ = fitted()
    assert PerformanceEstimator.from_json(estimator.to_json()) == estimator


def test_estimates_are_marked_estimated_and_use_no_labels() -> None:
    estimator, baseline = fitted()
    report = estimate_performance(estimator, baseline, binary_sample(1_000, seed=64).scores)
    assert {r.method for r in report.results} == {"estimated"}
    assert (report.n_labelled, report.n_window, report.label_completeness) == (0, 1_000, 0.0)


def test_estimates_of_a_reference_like_window_hold_the_reference_in_their_interval() -> None:
    estimator, baseline = fitted()
    report = estimate_performance(estimator, baseline, binary_sample(20_000, seed=65).scores)
    assert all(r.ci_low <= r.reference <= r.ci_high for r in report.results)


def test_a_small_reference_widens_the_interval_through_calibration_uncertainty() -> None:
    window = binary_sample(2_000, seed=66).scores
    errors = []
    for rows in (400, 40_000):
        reference = binary_sample(rows, seed=67)
        estimator = PerformanceEstimator.fit(
            reference.scores, reference.labels, "binary_classification"
        )
        baseline = PerformanceBaseline.fit(
            reference.scores, reference.labels, "binary_classification"
        )
        errors.append(
            estimate_performance(estimator, baseline, window).result("roc_auc").standard_error
        )
    assert errors[0] > 1.2 * errors[1]


def test_multiclass_calibrated_probabilities_sum_to_one() -> None:
    scores, labels = multiclass_sample(5_000, seed=68)
    estimator = PerformanceEstimator.fit(scores, labels, "multiclass_classification", CLASSES)
    assert np.allclose(estimator.calibrate(scores).probabilities.sum(axis=1), 1.0)


def test_multiclass_estimates_track_realized_quality_under_covariate_shift() -> None:
    scores, labels = multiclass_sample(20_000, seed=69)
    estimator = PerformanceEstimator.fit(scores, labels, "multiclass_classification", CLASSES)
    baseline = PerformanceBaseline.fit(scores, labels, "multiclass_classification", CLASSES)
    gaps = []
    for seed, shift in enumerate((-0.6, -0.3, 0.3, 0.6)):
        window, truth = multiclass_sample(5_000, seed=70 + seed, shift=shift)
        estimated = estimate_performance(estimator, baseline, window)
        realized = realized_performance(baseline, window, truth)
        gaps += [abs(r.value - realized.result(r.metric).value) for r in estimated.results]
    assert max(gaps) < 0.03


def test_window_without_usable_scores_gives_nan_estimates_with_a_message() -> None:
    estimator, baseline = fitted()
    result = estimate_performance(estimator, baseline, [None, None]).result("accuracy")
    assert math.isnan(result.value)
    assert result.message == "no rows with a usable score; 2 rows without a usable score left out"


def test_too_few_scored_rows_give_an_estimate_but_no_verdict() -> None:
    estimator, baseline = fitted()
    result = estimate_performance(estimator, baseline, [0.9] * 20).result("accuracy")
    assert not result.degraded
    assert result.message == "only 20 scored rows; at least 100 needed for a verdict"


def test_estimator_refuses_class_only_predictions() -> None:
    with pytest.raises(ValueError, match="reference predictions are classes only"):
        PerformanceEstimator.fit([0, 1] * 50, [0, 1] * 50, "binary_classification")


def test_estimator_refuses_regression() -> None:
    with pytest.raises(ValueError, match="performance estimation is for classifiers"):
        PerformanceEstimator.fit([0.5] * 50, [0.5] * 50, "regression")


def test_estimator_refuses_a_reference_with_one_class() -> None:
    with pytest.raises(ValueError, match=r"reference holds 1 class\(es\) among 100 labelled"):
        PerformanceEstimator.fit([0.2, 0.7] * 50, [1] * 100, "binary_classification")


def test_estimator_and_baseline_of_different_models_are_refused() -> None:
    estimator, _ = fitted()
    scores, labels = multiclass_sample(1_000, seed=71)
    other = PerformanceBaseline.fit(scores, labels, "multiclass_classification", CLASSES)
    with pytest.raises(ValueError, match="describe different models"):
        estimate_performance(estimator, other, scores)


def test_a_window_far_from_the_reference_gets_a_wider_interval_that_still_holds_the_truth() -> None:
    """Features shifted by N(0, 1.5^2) per window move the scores where the reference is sparse."""
    estimator, baseline = fitted()
    shifts = np.random.default_rng(69).normal(0.0, 1.5, size=(20, 3))
    widths: dict[bool, list[float]] = {False: [], True: []}
    covered = []
    for index, shift in enumerate(shifts):
        for shifted in (False, True):
            window = binary_sample(2_000, seed=700 + index, shift=tuple(shift * shifted))
            estimate = estimate_performance(estimator, baseline, window.scores).result("roc_auc")
            widths[shifted].append(estimate.ci_high - estimate.ci_low)
            if shifted:
                truth = realized_performance(baseline, window.scores, window.labels)
                covered.append(estimate.ci_low <= truth.result("roc_auc").value <= estimate.ci_high)
    assert np.mean(widths[True]) > 1.5 * np.mean(widths[False])
    assert np.mean(covered) >= 0.9


def test_scores_beyond_the_reference_range_widen_the_interval() -> None:
    """A reference that never scored above 0.6; a fifth of the window's rows at its highest
    score, or past it, where the calibration can only extrapolate (same probabilities)."""
    reference = binary_sample(5_000, seed=61)
    low = reference.scores < 0.6
    estimator = PerformanceEstimator.fit(
        reference.scores[low], reference.labels[low], "binary_classification"
    )
    baseline = PerformanceBaseline.fit(
        reference.scores[low], reference.labels[low], "binary_classification"
    )
    top = estimator.calibrations[0].highs[-1]
    scores = binary_sample(2_000, seed=68).scores.copy()
    scores[:400] = top
    inside = estimate_performance(estimator, baseline, scores).result("accuracy")
    scores[:400] = top + (1 - top) / 2
    beyond = estimate_performance(estimator, baseline, scores).result("accuracy")
    assert beyond.value == pytest.approx(inside.value)
    assert beyond.standard_error > inside.standard_error
