"""Realized quality on windows whose labels are partial, odd or missing: defined results with a
message, never an exception, except for structurally invalid input.

Data: the seeded binary world of ``quality_factories`` (reference of 4,000 rows, windows of
1,000), and small hand-written windows.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from detectors import PerformanceBaseline, realized_performance
from tests.detectors.quality_factories import binary_sample, with_missing_labels


@functools.cache
def baseline() -> PerformanceBaseline:
    sample = binary_sample(4_000, seed=21)
    labels = np.where(sample.labels == 1, "yes", "no")
    return PerformanceBaseline.fit(sample.scores, labels, "binary_classification", ["no", "yes"])


def window_labels(labelled: int) -> tuple[np.ndarray, object]:
    sample = binary_sample(1_000, seed=22)
    text = np.where(sample.labels == 1, "yes", "no")
    return sample.scores, with_missing_labels(text, labelled)


def test_window_without_labels_gives_nan_with_a_message() -> None:
    scores, labels = window_labels(0)
    result = realized_performance(baseline(), scores, labels).result("roc_auc")
    assert math.isnan(result.value) and math.isnan(result.ci_low) and not result.degraded
    assert result.message == "no labelled rows yet (0 of 1000)"


def test_label_completeness_is_the_share_of_rows_with_a_label() -> None:
    scores, labels = window_labels(250)
    report = realized_performance(baseline(), scores, labels)
    assert (report.n_labelled, report.n_window, report.label_completeness) == (250, 1000, 0.25)
    assert report.results[0].label_completeness == 0.25


def test_n_window_gives_completeness_when_only_labelled_rows_are_passed() -> None:
    scores, labels = window_labels(1_000)
    report = realized_performance(baseline(), scores[:300], labels[:300], n_window=1_200)
    assert report.label_completeness == 0.25


def test_n_window_below_the_labelled_rows_is_refused() -> None:
    scores, labels = window_labels(1_000)
    with pytest.raises(ValueError, match="n_window must be an integer of at least the 1000"):
        realized_performance(baseline(), scores, labels, n_window=10)


def test_late_labels_narrow_the_interval() -> None:
    scores, labels = window_labels(200)
    early = realized_performance(baseline(), scores, labels).result("roc_auc")
    scores, labels = window_labels(1_000)
    late = realized_performance(baseline(), scores, labels).result("roc_auc")
    assert late.ci_high - late.ci_low < early.ci_high - early.ci_low


def test_fewer_labels_than_the_minimum_give_a_value_but_no_verdict() -> None:
    scores = np.full(1_000, 0.9)
    labels = with_missing_labels(np.asarray(["no"] * 1_000), 40)
    result = realized_performance(baseline(), scores, labels).result("accuracy")
    assert result.value == 0.0 and not result.degraded
    assert result.message == "only 40 labelled rows; at least 100 needed for a verdict"


def test_one_class_in_the_labels_leaves_roc_auc_undefined_with_a_message() -> None:
    scores, _ = window_labels(0)
    result = realized_performance(baseline(), scores, ["no"] * 1_000).result("roc_auc")
    assert math.isnan(result.value)
    assert result.message == "roc_auc is undefined: the labels hold one class only"


def test_no_positive_labels_leave_recall_undefined_naming_the_class() -> None:
    scores, _ = window_labels(0)
    result = realized_performance(baseline(), scores, ["no"] * 1_000).result("recall")
    assert result.message == "recall is undefined: no labels of class 'yes'"


def test_labels_outside_the_class_labels_are_left_out_and_counted() -> None:
    scores, labels = window_labels(1_000)
    labels[:10] = "maybe"
    report = realized_performance(baseline(), scores, labels)
    assert report.n_labelled == 990
    assert report.results[0].message == "10 labels not among the class labels left out"


def test_labelled_rows_without_a_usable_prediction_are_left_out_and_counted() -> None:
    scores, labels = window_labels(1_000)
    scores = scores.copy()
    scores[:5] = np.nan
    scores[5:7] = 1.5
    report = realized_performance(baseline(), scores, labels)
    assert report.n_labelled == 993
    assert report.results[0].message == "7 labelled rows without a usable prediction left out"


def test_predictions_and_labels_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="got 3 predictions but 2 labels"):
        realized_performance(baseline(), [0.1, 0.2, 0.3], ["no", "yes"])


def test_class_only_predictions_leave_roc_auc_undefined_with_a_message() -> None:
    scores, labels = window_labels(1_000)
    classes = np.where(scores >= 0.5, "yes", "no")
    result = realized_performance(baseline(), classes, labels).result("roc_auc")
    assert math.isnan(result.value)
    assert result.message == "roc_auc needs class probabilities; the model logged classes"


def test_the_same_window_gives_the_same_report() -> None:
    scores, labels = window_labels(600)
    assert realized_performance(baseline(), scores, labels) == realized_performance(
        baseline(), scores, labels
    )
