"""Data-quality checks computed in the same pass as the drift tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from detectors import DriftConfig, FeatureSpec, QualityResult, QualityThresholds, ReferenceProfile
from detectors import detect_drift as run_drift


def quality(
    reference: pd.Series,
    current: pd.Series,
    kind: str = "numerical",
    *,
    nullable: bool = True,
    thresholds: QualityThresholds | None = None,
) -> dict[str, QualityResult]:
    spec = FeatureSpec("x", kind, nullable)
    profile = ReferenceProfile.fit(pd.DataFrame({"x": reference}), [spec])
    config = DriftConfig(quality=thresholds or QualityThresholds())
    report = run_drift(profile, pd.DataFrame({"x": current}), config)
    return {check.check: check for check in report.feature("x").quality}


def test_missing_share_is_judged_relative_to_the_reference() -> None:
    reference = pd.Series([np.nan] * 10 + [1.0] * 90)
    checks = quality(reference, pd.Series([np.nan] * 14 + [1.0] * 86))
    assert (checks["missing"].share, checks["missing"].threshold) == pytest.approx((0.14, 0.15))
    assert not checks["missing"].failed


def test_missing_share_above_the_reference_plus_tolerance_fails() -> None:
    checks = quality(pd.Series([1.0] * 100), pd.Series([np.nan] * 20 + [1.0] * 80))
    assert checks["missing"].failed


def test_a_share_just_over_the_limit_by_chance_does_not_fail() -> None:
    """6 missing of 100 at a 5% limit is what that limit brings by chance (38% of windows)."""
    checks = quality(pd.Series([1.0] * 100), pd.Series([np.nan] * 6 + [1.0] * 94))
    assert (checks["missing"].share, checks["missing"].failed) == (0.06, False)


def test_out_of_range_values_at_the_rate_the_reference_size_implies_do_not_fail() -> None:
    """A window drawn from the reference's own distribution: about 2 / (n + 1) of its values
    fall outside the range of n reference values, in every column, and none of that is news."""
    rng = np.random.default_rng(3)
    flagged = [
        quality(pd.Series(rng.normal(size=300)), pd.Series(rng.normal(size=240)))[
            "out_of_range"
        ].failed
        for _ in range(200)
    ]
    assert sum(flagged) <= 2


def test_any_missing_value_fails_a_non_nullable_feature() -> None:
    checks = quality(pd.Series([1.0] * 100), pd.Series([None, 1.0, 2.0]), nullable=False)
    assert (checks["missing"].count, checks["missing"].failed) == (1, True)


def test_values_outside_the_reference_range_are_counted_with_the_range() -> None:
    current = pd.Series([-1.0, 100.5] * 10 + [50.0] * 80)
    checks = quality(pd.Series(np.arange(100.0)), current)
    assert (checks["out_of_range"].count, checks["out_of_range"].failed) == (20, True)
    assert checks["out_of_range"].threshold == pytest.approx(2 / 101 + 0.01)
    assert checks["out_of_range"].message == (
        "reference range [0.0, 99.0]; its 100 values lead us to expect 1.98% of rows outside it"
    )


def test_new_category_share_fails_above_its_threshold() -> None:
    thresholds = QualityThresholds(max_new_category_share=0.3)
    checks = quality(
        pd.Series(["a", "b"] * 50),
        pd.Series(["a", "z", "b", "y"] * 50),
        "categorical",
        thresholds=thresholds,
    )
    assert (checks["new_category"].share, checks["new_category"].failed) == (0.5, True)
    assert checks["new_category"].message == "2 new categories: 'y', 'z'"


def test_new_categories_are_reported_with_capped_escaped_examples_most_frequent_first() -> None:
    current = pd.Series(["a"] * 90 + ["z\n"] * 3 + ["x" * 60] * 2 + list("pqrst"))
    check = quality(pd.Series(["a", "b"] * 500), current, "categorical")["new_category"]
    assert (check.count, check.share, check.failed) == (10, 0.1, True)
    assert check.examples == ("'z\\n'", "'" + "x" * 36 + "...", "'p'", "'q'", "'r'")
    assert check.message is not None and check.message.endswith("and 2 more")


def test_new_category_limit_adds_the_unseen_share_a_long_tail_leads_us_to_expect() -> None:
    reference = pd.Series(["a"] * 800 + [f"id{i}" for i in range(200)])  # 20% seen once
    current = pd.Series(["a"] * 85 + [f"new{i}" for i in range(15)])
    check = quality(reference, current, "categorical")
    assert check["new_category"].threshold == pytest.approx(0.21)
    assert not check["new_category"].failed


def test_type_errors_fail_by_default() -> None:
    checks = quality(pd.Series(["a"] * 10), pd.Series(["a", [1, 2]]), "categorical")
    assert (checks["type_error"].count, checks["type_error"].failed) == (1, True)


def test_numerical_features_have_no_new_category_check() -> None:
    assert set(quality(pd.Series([1.0, 2.0]), pd.Series([1.0]))) == {
        "missing",
        "type_error",
        "out_of_range",
    }


def test_quality_thresholds_round_trip_through_a_dict() -> None:
    thresholds = QualityThresholds(max_missing_increase=0.2, max_type_error_share=0.01)
    assert QualityThresholds.from_dict(thresholds.to_dict()) == thresholds
