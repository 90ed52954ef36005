"""Multivariate drift by PCA reconstruction error, including the issue's acceptance scenario.

Data: ``world(rows, correlation, seed)``: x1 ~ N(0, 1); x2 = correlation * x1 +
sqrt(1 - correlation^2) * N(0, 1), so x2 is N(0, 1) whatever the correlation; x3 ~ Gamma(2, 1)
independent; plan ~ categorical (basic 60%, pro 30%, team 10%) independent. The reference has
10,000 rows at correlation +0.8; the acceptance window has 2,000 rows at -0.8: every marginal is
unchanged, only the correlation of x1 and x2 flips.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import pytest

from detectors import (
    FeatureSpec,
    MultivariateProfile,
    ReferenceProfile,
    detect_drift,
    multivariate_drift,
)
from tests.factories import correlated_frame

SCHEMA = (
    FeatureSpec("x1", "numerical"),
    FeatureSpec("x2", "numerical"),
    FeatureSpec("x3", "numerical"),
    FeatureSpec("plan", "categorical"),
)


def world(rows: int, correlation: float, seed: int) -> pd.DataFrame:
    return correlated_frame(rows, correlation, seed).drop(columns="prediction")


@functools.cache
def reference() -> pd.DataFrame:
    return world(10_000, 0.8, seed=81)


@functools.cache
def profile() -> MultivariateProfile:
    return MultivariateProfile.fit(reference(), SCHEMA)


def test_correlation_flip_is_flagged_by_the_multivariate_signal() -> None:
    result = multivariate_drift(profile(), world(2_000, -0.8, seed=82))
    assert result.drifted and result.statistic > result.threshold
    assert result.method == "pca_reconstruction"


def test_correlation_flip_leaves_the_univariate_tests_quiet() -> None:
    report = detect_drift(ReferenceProfile.fit(reference(), SCHEMA), world(2_000, -0.8, seed=82))
    assert report.drifted_features == () and not report.drifted


def test_windows_from_the_reference_distribution_are_not_flagged() -> None:
    sizes = [500] * 40 + [5_000] * 15 + [100_000] * 5
    flagged = [
        multivariate_drift(profile(), world(rows, 0.8, seed=100 + i)).drifted
        for i, rows in enumerate(sizes)
    ]
    assert sum(flagged) <= 1


def test_a_weaker_correlation_is_flagged_too() -> None:
    assert multivariate_drift(profile(), world(2_000, 0.4, seed=83)).drifted


def test_profile_round_trips_through_json() -> None:
    assert MultivariateProfile.from_json(profile().to_json()) == profile()


def test_fitting_the_same_reference_twice_gives_the_same_profile() -> None:
    assert MultivariateProfile.fit(world(10_000, 0.8, seed=81), SCHEMA) == profile()


def test_profile_keeps_the_fewest_components_that_explain_the_variance() -> None:
    fewer = MultivariateProfile.fit(reference(), SCHEMA, variance=0.5)
    assert len(fewer.components) < len(profile().components)
    assert profile().explained_variance >= 0.8 > fewer.explained_variance


def test_threshold_is_wider_for_smaller_windows() -> None:
    assert profile().threshold(100, 3.0) > profile().threshold(10_000, 3.0)


def test_missing_values_are_imputed_with_the_reference_means_and_counted() -> None:
    window = world(1_000, 0.8, seed=84)
    window.loc[:49, "x1"] = np.nan
    window.loc[:9, "plan"] = None
    result = multivariate_drift(profile(), window)
    assert result.message == "60 missing values imputed with the reference means"
    assert not result.drifted


def test_unseen_categories_raise_the_error_and_are_counted() -> None:
    window = world(1_000, 0.8, seed=85)
    clean = multivariate_drift(profile(), window)
    unseen = multivariate_drift(profile(), window.assign(plan="enterprise"))
    assert unseen.statistic > clean.statistic
    assert unseen.message == "1000 values in categories unseen in the reference"


def test_empty_window_gives_nan_with_a_message() -> None:
    result = multivariate_drift(profile(), reference().iloc[:0])
    assert math.isnan(result.statistic) and not result.drifted and result.n_cur == 0
    assert result.message == "window is empty; nothing to compare"


def test_window_missing_a_feature_column_is_refused() -> None:
    with pytest.raises(ValueError, match="frame has no column for feature"):
        multivariate_drift(profile(), reference().drop(columns="x3"))


def test_a_single_numerical_feature_is_refused() -> None:
    with pytest.raises(ValueError, match="needs at least two encoded columns"):
        MultivariateProfile.fit(reference(), [FeatureSpec("x1", "numerical")])


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"variance": 0.0}, r"variance must be a number in \(0.0, 1.0\]"),
        ({"chunks": 1}, r"chunks must be an integer in \[2, 1000\]"),
        ({"max_categories": 0}, r"max_categories must be an integer in \[1, 1000\]"),
    ],
)
def test_profile_refuses_invalid_settings(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MultivariateProfile.fit(reference(), SCHEMA, **settings)  # type: ignore[arg-type]


def test_result_to_dict_is_strict_json() -> None:
    data = multivariate_drift(profile(), reference().iloc[:0]).to_dict()
    assert data["statistic"] is None and data["method"] == "pca_reconstruction"


def correlated(rows: int, rho: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(rows)
    b = rho * a + np.sqrt(1 - rho**2) * rng.standard_normal(rows)
    return pd.DataFrame({"a": a, "b": b, "c": rng.gamma(2.0, size=rows)})


@functools.cache
def correlated_profile() -> MultivariateProfile:
    schema = [FeatureSpec(name, "numerical") for name in "abc"]
    return MultivariateProfile.fit(correlated(100_000, 0.6, seed=0), schema)


def test_a_significant_but_negligible_rise_of_the_error_does_not_drift() -> None:
    result = multivariate_drift(correlated_profile(), correlated(300_000, 0.58, seed=1))
    assert result.statistic > result.threshold and result.statistic < result.floor
    assert not result.drifted


def test_a_correlation_falling_by_a_tenth_drifts_past_the_floor() -> None:
    result = multivariate_drift(correlated_profile(), correlated(300_000, 0.45, seed=1))
    assert result.drifted and result.floor == pytest.approx(1.1 * result.reference)


def test_a_spike_of_missing_values_is_reported_even_when_the_error_falls() -> None:
    window = correlated(2_000, 0.6, seed=2)
    window.loc[: len(window) // 2, "b"] = np.nan
    result = multivariate_drift(correlated_profile(), window)
    assert result.missing_spike and not result.drifted
    assert result.missing_share == pytest.approx(1_001 / 6_000)
    assert result.message is not None and result.message.startswith("missing values spiked")
