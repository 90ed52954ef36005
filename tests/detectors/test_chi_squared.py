"""Chi-squared over the union of categories, with unseen categories reported."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from detectors import FeatureSpec, ReferenceProfile
from detectors.results import DriftResult
from detectors.stattests import ChiSquared
from detectors.window import summarize


def chi_squared(
    reference: list[object], current: list[object], kind: str = "categorical"
) -> DriftResult:
    frame = pd.DataFrame({"x": reference})
    profile = ReferenceProfile.fit(frame, [FeatureSpec("x", kind)]).features[0]
    return ChiSquared().test(profile, summarize(profile, pd.Series(current, dtype=object)))


def test_chi_squared_matches_scipy_chi2_contingency() -> None:
    reference = ["a"] * 500 + ["b"] * 300 + ["c"] * 200
    current = ["a"] * 380 + ["b"] * 320 + ["c"] * 100
    expected = stats.chi2_contingency([[500, 300, 200], [380, 320, 100]], correction=False)
    result = chi_squared(reference, current)
    assert (result.statistic, result.p_value) == pytest.approx(
        (expected.statistic, expected.pvalue), rel=1e-9, abs=1e-12
    )


def test_chi_squared_reports_an_unseen_category_with_a_finite_statistic() -> None:
    result = chi_squared(["a"] * 60 + ["b"] * 40, ["a"] * 50 + ["b"] * 40 + ["new"] * 10)
    expected = stats.chi2_contingency([[60, 40, 0], [50, 40, 10]], correction=False)
    assert result.new_categories == ("new",)
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-9)
    assert result.message == "window has categories unseen in the reference: 'new'"


def test_chi_squared_effect_size_is_cohens_w_less_its_no_drift_expectation() -> None:
    result = chi_squared(["a"] * 600 + ["b"] * 400, ["a"] * 150 + ["b"] * 250)
    n_eff = 1_000 * 400 / 1_400
    degrees_of_freedom = 1
    expected = math.sqrt((result.statistic - degrees_of_freedom) / n_eff)
    assert result.effect_size == pytest.approx(expected, rel=1e-12)


def test_chi_squared_with_one_category_on_both_sides_is_zero_with_a_message() -> None:
    result = chi_squared(["only"] * 10, ["only"] * 5)
    assert (result.statistic, result.p_value, result.drifted) == (0.0, 1.0, False)
    assert result.message is not None and "single category" in result.message


def test_window_of_only_new_categories_drifts_with_a_message() -> None:
    result = chi_squared(["a"] * 60 + ["b"] * 40, ["z"] * 50)
    assert result.drifted
    assert result.message == "window has only categories unseen in the reference: 'z'"


def test_boolean_feature_reads_booleans_zero_one_and_text_alike() -> None:
    result = chi_squared([True, False] * 50, [1, 0, "true", "FALSE"] * 25, kind="boolean")
    assert (result.statistic, result.new_categories) == (0.0, ())


def test_integers_and_integral_floats_are_one_category() -> None:
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 3, 300)
    result = chi_squared(codes.tolist(), codes.astype(float).tolist())
    assert (result.statistic, result.new_categories) == (0.0, ())
