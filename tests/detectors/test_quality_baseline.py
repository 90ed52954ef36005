"""The reference's own quality, the rules built on it, and the degradation verdict.

Data: the seeded binary world of ``quality_factories`` (reference of 5,000 rows unless stated).
"""

from __future__ import annotations

import functools
import json
import math

import numpy as np
import pytest

from detectors import PerformanceBaseline, PerformanceRule, realized_performance
from detectors.rules import MetricBaseline
from tests.detectors.quality_factories import WEIGHTS, binary_sample


@functools.cache
def baseline() -> PerformanceBaseline:
    sample = binary_sample(5_000, seed=11)
    return PerformanceBaseline.fit(sample.scores, sample.labels, "binary_classification")


def test_baseline_round_trips_through_json() -> None:
    assert PerformanceBaseline.from_json(baseline().to_json()) == baseline()


def test_baseline_json_is_strict_and_names_its_format() -> None:
    document = json.loads(baseline().to_json())
    assert (document["format"], document["version"]) == ("detectors.PerformanceBaseline", 1)


def test_baseline_from_another_document_is_refused() -> None:
    with pytest.raises(ValueError, match=r"not a detectors\.PerformanceBaseline version 1"):
        PerformanceBaseline.from_dict({"format": "detectors.ReferenceProfile", "version": 1})


def test_chunk_values_are_the_metric_on_consecutive_equal_chunks() -> None:
    sample = binary_sample(5_000, seed=11)
    first = realized_performance(baseline(), sample.scores[:500], sample.labels[:500])
    assert baseline().metric("f1").chunk_values[0] == first.result("f1").value
    assert len(baseline().metric("f1").chunk_values) == 10


def test_chunk_std_is_the_sample_standard_deviation_of_the_chunk_values() -> None:
    auc = baseline().metric("roc_auc")
    assert auc.chunk_std == pytest.approx(np.std(auc.chunk_values, ddof=1))


def test_class_only_predictions_give_no_roc_auc_or_log_loss() -> None:
    sample = binary_sample(2_000, seed=12)
    classes = (sample.scores >= 0.5).astype(int)
    fitted = PerformanceBaseline.fit(classes, sample.labels, "binary_classification")
    assert [m.metric.value for m in fitted.metrics] == ["accuracy", "precision", "recall", "f1"]


def test_a_metric_the_predictions_cannot_give_is_refused() -> None:
    classes = [0, 1] * 100
    with pytest.raises(ValueError, match="cannot compute roc_auc: the predictions carry no"):
        PerformanceBaseline.fit(classes, classes, "binary_classification", metrics=["roc_auc"])


def test_a_metric_of_another_task_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot compute mae: it does not apply to binary"):
        PerformanceBaseline.fit(
            [0, 1] * 100, [0, 1] * 100, "binary_classification", metrics=["mae"]
        )


def test_a_reference_with_one_class_is_refused() -> None:
    with pytest.raises(ValueError, match="reference: recall is undefined: no labels of class '1'"):
        PerformanceBaseline.fit([0.2, 0.7] * 50, [0, 0] * 50, "binary_classification")


def test_a_reference_too_small_for_its_chunks_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 20 are needed for 10 chunks"):
        PerformanceBaseline.fit([0.2, 0.7] * 5, [0, 1] * 5, "binary_classification")


def test_unknown_task_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="task must be one of binary_classification, multic"):
        PerformanceBaseline.fit([1.0] * 40, [1.0] * 40, "ranking")


def test_binary_class_labels_must_be_two() -> None:
    with pytest.raises(ValueError, match="a binary model needs two class labels"):
        PerformanceBaseline.fit([0.2] * 40, [0] * 40, "binary_classification", ["a", "b", "c"])


def test_rule_round_trips_through_json() -> None:
    rule = PerformanceRule("log_loss", max_drop=0.05, relative_drop=0.1, min_labels=50)
    assert PerformanceRule.from_dict(json.loads(json.dumps(rule.to_dict()))) == rule


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"metric": "auc"}, "metric must be one of accuracy, precision"),
        ({"metric": "f1", "max_drop": -0.1}, r"max_drop must be a number in \[0.0, inf\]"),
        ({"metric": "f1", "relative_drop": 2}, r"relative_drop must be a number in \[0.0, 1.0\]"),
        ({"metric": "f1", "min_labels": 0}, r"min_labels must be an integer in \[1, "),
        ({"metric": "f1", "confidence": 1.0}, r"confidence must be a number in \[0.5, 0.999\]"),
    ],
)
def test_rule_refuses_invalid_settings(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PerformanceRule(**settings)  # type: ignore[arg-type]


def test_rule_margin_is_the_largest_configured_part() -> None:
    reference = MetricBaseline(baseline().metric("accuracy").metric, 0.8, (0.79, 0.81))
    rule = PerformanceRule("accuracy", max_drop=0.02, relative_drop=0.05, std_factor=3.0)
    assert rule.margin(reference) == pytest.approx(max(0.02, 0.04, 3 * reference.chunk_std))


def test_rule_for_a_metric_missing_from_the_baseline_is_refused() -> None:
    sample = binary_sample(100, seed=13)
    with pytest.raises(ValueError, match="rule for 'mae', a metric the baseline lacks"):
        realized_performance(
            baseline(), sample.scores, sample.labels, rules=[PerformanceRule("mae")]
        )


def test_bounds_sit_below_for_quality_and_above_for_losses() -> None:
    sample = binary_sample(2_000, seed=14)
    report = realized_performance(baseline(), sample.scores, sample.labels)
    auc, loss = report.result("roc_auc"), report.result("log_loss")
    assert auc.lower_bound is not None and auc.lower_bound < auc.reference
    assert auc.upper_bound is None and loss.lower_bound is None
    assert loss.upper_bound is not None and loss.upper_bound > loss.reference


def test_an_unchanged_window_is_not_degraded() -> None:
    sample = binary_sample(2_000, seed=15)
    assert realized_performance(baseline(), sample.scores, sample.labels).degraded_metrics == ()


def test_a_value_beyond_the_bound_whose_interval_holds_the_reference_is_not_degraded() -> None:
    sample = binary_sample(2_000, seed=16)
    rule = PerformanceRule("roc_auc", max_drop=0.0, std_factor=None, min_labels=1)
    result = realized_performance(
        baseline(), sample.scores[:60], sample.labels[:60], rules=[rule]
    ).result("roc_auc")
    assert result.lower_bound is not None and result.value < result.lower_bound
    assert result.ci_high > result.reference and not result.degraded


def test_a_rising_loss_beyond_its_bound_is_degraded() -> None:
    sample = binary_sample(2_000, seed=17)
    flipped = 1 - sample.labels
    rule = PerformanceRule("log_loss", max_drop=0.1)
    result = realized_performance(baseline(), sample.scores, flipped, rules=[rule]).result(
        "log_loss"
    )
    assert result.degraded and result.upper_bound is not None
    assert result.ci_low > result.upper_bound > result.reference


def test_report_to_dict_is_strict_json_with_none_for_undefined_values() -> None:
    report = realized_performance(baseline(), [0.3, 0.6], [None, None])
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["results"][0]["value"] is None and data["degraded_metrics"] == []
    assert math.isnan(report.results[0].value)


def test_class_labels_default_to_the_sorted_text_labels_seen() -> None:
    fitted = PerformanceBaseline.fit(
        ["dog", "cat"] * 20, ["cat", "eel"] * 20, "multiclass_classification"
    )
    assert fitted.class_labels == ("cat", "dog", "eel")


@functools.cache
def small_baseline() -> PerformanceBaseline:
    sample = binary_sample(2_000, seed=21)
    return PerformanceBaseline.fit(
        sample.scores, sample.labels, "binary_classification", metrics=["roc_auc"]
    )


def test_margin_narrows_as_the_window_holds_more_labelled_rows() -> None:
    auc, rule = small_baseline().metric("roc_auc"), PerformanceRule("roc_auc")
    margins = [rule.margin(auc, n) for n in (100, 1_000, 10_000)]
    assert margins == sorted(margins, reverse=True)
    assert margins[-1] < rule.margin(auc) / 2  # the chunk-sized margin of a 2,000-row reference


def test_margin_for_a_chunk_sized_window_keeps_the_larger_of_spread_and_sampling_error() -> None:
    auc = small_baseline().metric("roc_auc")
    expected = 3 * max(auc.chunk_std, math.sqrt(auc.chunk_variance))
    assert PerformanceRule("roc_auc").margin(auc, auc.chunk_rows) == pytest.approx(expected)


def test_a_small_drop_on_a_well_labelled_window_is_degraded() -> None:
    weaker = 0.8 * WEIGHTS  # the labels follow the features less closely
    sample = binary_sample(10_000, seed=22, weights=weaker)
    result = realized_performance(small_baseline(), sample.scores, sample.labels).result("roc_auc")
    assert 0.02 < result.reference - result.value < 0.06 and result.degraded


def test_a_baseline_stored_without_sampling_variances_judges_by_the_chunk_spread() -> None:
    stored = small_baseline().to_dict()
    for metric in stored["metrics"]:
        for key in ("variance", "chunk_rows", "chunk_variance"):
            del metric[key]
    auc = PerformanceBaseline.from_dict(stored).metric("roc_auc")
    assert PerformanceRule("roc_auc").margin(auc, 10_000) == 3 * auc.chunk_std
