"""Wasserstein distance normalised by the reference standard deviation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from detectors import FeatureSpec, ReferenceProfile
from detectors.results import DriftResult
from detectors.stattests import Wasserstein
from detectors.window import summarize


def wasserstein(reference: np.ndarray, current: np.ndarray, **fit: int) -> DriftResult:
    frame = pd.DataFrame({"x": reference})
    profile = ReferenceProfile.fit(frame, [FeatureSpec("x", "numerical")], **fit).features[0]
    test = Wasserstein()
    window = summarize(profile, pd.Series(current), keep_values=test.values_needed())
    return test.test(profile, window)


def test_exact_wasserstein_matches_scipy_divided_by_reference_std() -> None:
    rng = np.random.default_rng(0)
    reference, current = rng.lognormal(size=5_000), rng.lognormal(0.2, size=3_000)
    result = wasserstein(reference, current)
    expected = stats.wasserstein_distance(reference, current) / reference.std()
    assert result.method == "exact"
    assert result.statistic == pytest.approx(expected, abs=1e-9)


def test_grid_wasserstein_is_within_one_percent_of_exact() -> None:
    rng = np.random.default_rng(1)
    reference, current = rng.normal(size=50_000), rng.normal(0.3, 1.2, size=50_000)
    result = wasserstein(reference, current)
    expected = stats.wasserstein_distance(reference, current) / reference.std()
    assert result.method == "grid"
    assert result.statistic == pytest.approx(expected, rel=0.01)


def test_grid_wasserstein_counts_the_mass_beyond_the_reference_range() -> None:
    rng = np.random.default_rng(2)
    reference = rng.uniform(0, 1, 50_000)
    current = np.r_[rng.uniform(-3, -2, 10_000), rng.uniform(2, 4, 10_000)]
    result = wasserstein(reference, current)
    expected = stats.wasserstein_distance(reference, current) / reference.std()
    assert result.statistic == pytest.approx(expected, rel=0.01)


def test_wasserstein_on_a_constant_reference_is_not_normalised_and_says_so() -> None:
    result = wasserstein(np.full(100, 3.0), np.full(50, 4.0))
    assert result.statistic == pytest.approx(1.0)
    assert result.message is not None and "not normalised" in result.message
