"""KS: exact two-sample on small samples (as scipy), quantile grid on large ones, chi-squared
p-value on discrete references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from benchmarks.shapes import NUMERICAL_SHAPES
from detectors import FeatureSpec, ReferenceProfile
from detectors.profile import DISCRETE_MAX_VALUES, FeatureProfile
from detectors.results import DriftResult
from detectors.stattests import KolmogorovSmirnov
from detectors.window import summarize


def ks(
    reference: object, current: object, test: KolmogorovSmirnov | None = None, **fit: int
) -> DriftResult:
    test = test or KolmogorovSmirnov()
    frame = pd.DataFrame({"x": reference})
    profile: FeatureProfile = ReferenceProfile.fit(
        frame, [FeatureSpec("x", "numerical")], **fit
    ).features[0]
    window = summarize(profile, pd.Series(current), keep_values=test.values_needed())
    return test.test(profile, window)


samples = st.lists(
    st.one_of(st.integers(-5, 5).map(float), st.floats(-1e6, 1e6)), min_size=1, max_size=300
)


@settings(max_examples=60, deadline=None, database=None)
@given(reference=samples, current=samples)
def test_exact_ks_matches_scipy_ks_2samp(reference: list[float], current: list[float]) -> None:
    assume(len(set(reference)) not in range(2, DISCRETE_MAX_VALUES + 1))
    expected = stats.ks_2samp(reference, current)
    result = ks(reference, current)
    assert result.method == "exact"
    assert result.statistic == pytest.approx(expected.statistic, abs=1e-9)
    assert result.p_value == pytest.approx(expected.pvalue, abs=1e-9)


@settings(max_examples=40, deadline=None, database=None)
@given(
    reference=st.lists(st.integers(0, 9).map(float), min_size=2, max_size=300),
    current=st.lists(st.integers(-2, 12).map(float), min_size=1, max_size=300),
)
def test_ks_on_a_discrete_reference_has_the_exact_distance(
    reference: list[float], current: list[float]
) -> None:
    assume(len(set(reference)) > 1)
    result = ks(reference, current)
    assert result.method == "discrete"
    assert result.statistic == pytest.approx(stats.ks_2samp(reference, current).statistic)


def test_ks_on_a_discrete_reference_takes_its_p_value_from_chi_squared_on_the_values() -> None:
    reference = [0.0] * 500 + [1.0] * 300 + [2.0] * 200
    current = [0.0] * 300 + [1.0] * 350 + [2.0] * 250 + [7.0] * 100
    expected = stats.chi2_contingency([[500, 300, 200, 0], [300, 350, 250, 100]], correction=False)
    assert ks(reference, current).p_value == pytest.approx(expected.pvalue, rel=1e-9)


def test_exact_ks_matches_scipy_at_ten_thousand_values() -> None:
    rng = np.random.default_rng(0)
    reference, current = rng.normal(size=10_000), rng.normal(0.02, size=10_000)
    expected = stats.ks_2samp(reference, current)
    result = ks(reference, current)
    assert (result.statistic, result.p_value) == pytest.approx(
        (expected.statistic, expected.pvalue), abs=1e-9
    )


def test_ks_uses_the_grid_above_exact_max_size() -> None:
    rng = np.random.default_rng(1)
    result = ks(
        rng.normal(size=1_000), rng.normal(size=2_000), KolmogorovSmirnov(exact_max_size=1_999)
    )
    assert result.method == "grid"


def test_ks_uses_the_grid_when_the_profile_kept_no_reference_sample() -> None:
    rng = np.random.default_rng(2)
    result = ks(rng.normal(size=1_000), rng.normal(size=100), sample_size=999)
    assert result.method == "grid"


def test_grid_ks_is_within_the_grid_resolution_of_the_exact_statistic() -> None:
    rng = np.random.default_rng(3)
    reference, current = rng.normal(size=50_000), rng.normal(0.05, 1.1, size=200_000)
    result = ks(reference, current, grid_size=2_000)
    exact = stats.ks_2samp(reference, current).statistic
    assert result.method == "grid"
    assert exact - 1 / 2_000 <= result.statistic <= exact


def test_grid_ks_p_value_is_close_to_scipy_asymptotic() -> None:
    rng = np.random.default_rng(4)
    reference, current = rng.normal(size=20_000), rng.normal(0.03, size=20_000)
    result = ks(reference, current, KolmogorovSmirnov(exact_max_size=0))
    expected = stats.ks_2samp(reference, current, method="asymp").pvalue
    assert result.p_value == pytest.approx(expected, rel=0.1)


def test_ks_flags_a_large_shift_in_a_large_window() -> None:
    rng = np.random.default_rng(5)
    result = ks(rng.normal(size=20_000), rng.normal(0.5, size=100_000))
    assert result.drifted


def test_ks_refuses_a_threshold_above_one() -> None:
    with pytest.raises(ValueError, match=r"threshold must be a number in \(0.0, 1.0\], got 2"):
        KolmogorovSmirnov(threshold=2)


@pytest.mark.parametrize(("shifted", "n", "low", "high"), [(False, 100, 0, 3), (True, 100, 51, 60)])
def test_ks_on_poisson_counts_keeps_false_alarms_low_and_catches_half_a_deviation(
    shifted: bool, n: int, low: int, high: int
) -> None:
    counts = NUMERICAL_SHAPES[3]
    frame = pd.DataFrame({"x": counts.draw(np.random.default_rng(0), 100_000, False)})
    profile = ReferenceProfile.fit(frame, [FeatureSpec("x", "numerical")]).features[0]
    flagged = sum(
        KolmogorovSmirnov()
        .test(profile, summarize(profile, counts.draw(np.random.default_rng(s), n, shifted)))
        .drifted
        for s in range(60)
    )
    assert low <= flagged <= high
