"""KS: exact two-sample on small samples (as scipy), quantile grid on large ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from detectors import FeatureSpec, ReferenceProfile
from detectors.profile import FeatureProfile
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
    expected = stats.ks_2samp(reference, current)
    result = ks(reference, current)
    assert result.method == "exact"
    assert result.statistic == pytest.approx(expected.statistic, abs=1e-9)
    assert result.p_value == pytest.approx(expected.pvalue, abs=1e-9)


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
