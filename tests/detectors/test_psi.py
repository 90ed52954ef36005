"""PSI: reference-quantile bins, catch-all bins, epsilon floor, new-category bucket."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from evidently.legacy.calculations.stattests.psi import _psi as evidently_psi
from evidently.legacy.core import ColumnType
from scipy import stats

from detectors import FeatureSpec, ReferenceProfile
from detectors.profile import FeatureProfile, NumericalProfile
from detectors.stattests import PopulationStabilityIndex
from detectors.stattests.bins import binned_counts
from detectors.window import FeatureWindow, summarize


def fitted(
    reference: object, current: object, kind: str = "numerical"
) -> tuple[FeatureProfile, FeatureWindow]:
    frame = pd.DataFrame({"x": reference})
    profile = ReferenceProfile.fit(frame, [FeatureSpec("x", kind)]).features[0]
    return profile, summarize(profile, pd.Series(current))


def our_bin_labels(profile: NumericalProfile, values: np.ndarray) -> pd.Series:
    """Each value's PSI bin, computed independently of the profile's cell machinery."""
    edges = profile.bin_edges
    inside = np.maximum(np.searchsorted(edges, values, side="left"), 1)
    labels = np.where(values < edges[0], 0, np.where(values > edges[-1], edges.size, inside))
    return pd.Series(labels.astype(str))


def _assert_numerical_psi_matches_evidently(reference: np.ndarray, current: np.ndarray) -> None:
    profile, window = fitted(reference, current)
    assert isinstance(profile, NumericalProfile)
    expected, _ = evidently_psi(
        our_bin_labels(profile, reference),
        our_bin_labels(profile, current),
        ColumnType.Categorical,
        0.1,
    )
    assert PopulationStabilityIndex().test(profile, window).statistic == pytest.approx(
        expected, rel=1e-9
    )


def test_psi_matches_evidently_on_identical_numerical_bins() -> None:
    rng = np.random.default_rng(0)
    reference, current = rng.normal(size=5_000), rng.normal(0.3, 1.2, size=4_000)
    _assert_numerical_psi_matches_evidently(reference, current)


def test_psi_matches_evidently_when_a_window_bin_is_empty() -> None:
    rng = np.random.default_rng(1)
    reference = rng.normal(size=5_000)
    current = np.abs(rng.normal(size=3_000))  # nothing in the lower half of the bins
    _assert_numerical_psi_matches_evidently(reference, current)


def test_categorical_psi_matches_evidently_with_a_new_category() -> None:
    rng = np.random.default_rng(2)
    reference = pd.Series(rng.choice(["a", "b", "c"], 5_000, p=[0.5, 0.3, 0.2]))
    current = pd.Series(rng.choice(["a", "b", "c", "d"], 4_000, p=[0.4, 0.3, 0.2, 0.1]))
    profile, window = fitted(reference, current, "categorical")
    expected, _ = evidently_psi(reference, current, ColumnType.Categorical, 0.1)
    assert PopulationStabilityIndex().test(profile, window).statistic == pytest.approx(
        expected, rel=1e-9
    )


def test_psi_puts_values_above_reference_max_in_catch_all_bin() -> None:
    profile, window = fitted(np.arange(1_000.0), np.full(50, 5_000.0))
    assert binned_counts(profile, window)[1].tolist() == [0] * 11 + [50]


def test_psi_puts_values_below_reference_min_in_catch_all_bin() -> None:
    profile, window = fitted(np.arange(1_000.0), np.full(50, -1.0))
    assert binned_counts(profile, window)[1].tolist() == [50] + [0] * 11


def test_psi_floors_empty_bins_at_epsilon() -> None:
    profile, window = fitted(np.arange(1_000.0), np.full(50, 5_000.0))
    epsilon = 1e-3
    p = np.r_[epsilon, np.full(10, 0.1), epsilon]
    q = np.r_[np.full(11, epsilon), 1.0]
    result = PopulationStabilityIndex(epsilon=epsilon).test(profile, window)
    assert result.statistic == pytest.approx(np.sum((q - p) * np.log(q / p)), rel=1e-12)


def test_categorical_psi_pools_unseen_and_rare_categories_in_one_other_cell() -> None:
    profile, window = fitted(["a", "b"] * 50, ["a", "x", "y", "y"], "categorical")
    assert [counts.tolist() for counts in binned_counts(profile, window)] == [[50, 50], [1, 3]]


def test_psi_of_a_window_drawn_like_the_reference_bins_is_zero() -> None:
    reference = np.repeat(np.arange(10.0), 100)
    profile, window = fitted(reference, reference[::-1])
    assert PopulationStabilityIndex().test(profile, window).statistic == 0.0


def test_psi_p_value_is_the_homogeneity_test_with_catch_all_bins_merged() -> None:
    rng = np.random.default_rng(3)
    reference, current = rng.normal(size=2_000), rng.normal(0.1, size=1_000)
    profile, window = fitted(reference, current)
    assert isinstance(profile, NumericalProfile)
    table = pd.crosstab(
        np.r_[np.zeros(2_000), np.ones(1_000)],
        np.clip(our_bin_labels(profile, np.r_[reference, current]).astype(int), 1, 10),
    )
    expected = stats.chi2_contingency(table.to_numpy(), correction=False).pvalue
    assert PopulationStabilityIndex().test(profile, window).p_value == pytest.approx(expected)


def test_psi_on_a_constant_reference_keeps_its_catch_all_bins_for_the_p_value() -> None:
    profile, window = fitted(np.full(100, 1.0), np.full(100, 2.0))
    assert PopulationStabilityIndex().test(profile, window).drifted
