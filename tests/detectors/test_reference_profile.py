"""The reference profile: fitted once, serialised, loaded back identical."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from detectors import FeatureKind, FeatureSpec, ReferenceProfile
from detectors.profile import CategoricalProfile, NumericalProfile, count_cells


def mixed_frame(rows: int = 2_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10, 1, rows)
    income[::50] = np.nan
    return pd.DataFrame(
        {
            "income": income,
            "age": rng.integers(18, 90, rows),
            "plan": rng.choice(["basic", "plus", "pro"], rows),
            "active": rng.random(rows) < 0.7,
        }
    )


SCHEMA = (
    FeatureSpec("income", FeatureKind.NUMERICAL),
    FeatureSpec("age", FeatureKind.NUMERICAL, nullable=False),
    FeatureSpec("plan", FeatureKind.CATEGORICAL),
    FeatureSpec("active", FeatureKind.BOOLEAN),
)


def numerical(profile: ReferenceProfile, name: str) -> NumericalProfile:
    feature = profile.feature(name)
    assert isinstance(feature, NumericalProfile)
    return feature


def categorical(profile: ReferenceProfile, name: str) -> CategoricalProfile:
    feature = profile.feature(name)
    assert isinstance(feature, CategoricalProfile)
    return feature


def test_profile_loads_back_from_json_equal() -> None:
    profile = ReferenceProfile.fit(mixed_frame(), SCHEMA)
    assert ReferenceProfile.from_json(profile.to_json()) == profile


def test_profile_loaded_from_json_keeps_the_exact_floats() -> None:
    profile = ReferenceProfile.fit(mixed_frame(), SCHEMA)
    loaded = numerical(ReferenceProfile.from_json(profile.to_json()), "income")
    assert np.array_equal(loaded.grid, numerical(profile, "income").grid)


def test_profiles_of_different_references_are_not_equal() -> None:
    first = ReferenceProfile.fit(mixed_frame(seed=0), SCHEMA)
    assert ReferenceProfile.fit(mixed_frame(seed=1), SCHEMA) != first


def test_profile_json_is_standard_json_for_an_all_missing_feature() -> None:
    frame = pd.DataFrame({"x": [np.nan, np.nan]})
    text = ReferenceProfile.fit(frame, [FeatureSpec("x", "numerical")]).to_json()
    assert json.loads(text, parse_constant=pytest.fail)["features"][0]["mean"] is None


def test_each_bin_edge_is_the_smallest_value_reaching_its_quantile() -> None:
    frame = mixed_frame()
    income = numerical(ReferenceProfile.fit(frame, SCHEMA, bins=8), "income")
    values = np.sort(frame["income"].dropna())
    share_at_or_below = np.searchsorted(values, income.bin_edges, side="right") / values.size
    share_below = np.searchsorted(values, income.bin_edges, side="left") / values.size
    targets = np.arange(9) / 8
    assert np.all((share_at_or_below >= targets) & (share_below < np.maximum(targets, 1e-12)))


def test_profile_stores_summary_statistics_and_range() -> None:
    frame = mixed_frame()
    income = numerical(ReferenceProfile.fit(frame, SCHEMA), "income")
    values = frame["income"].dropna()
    assert (income.mean, income.std, income.min, income.max, income.n_missing) == pytest.approx(
        (values.mean(), values.std(ddof=0), values.min(), values.max(), 40)
    )


def test_profile_keeps_the_sorted_sample_when_the_reference_fits_the_sample_size() -> None:
    frame = mixed_frame()
    income = numerical(ReferenceProfile.fit(frame, SCHEMA, sample_size=5_000), "income")
    assert income.sample is not None
    assert np.array_equal(income.sample, np.sort(frame["income"].dropna()))


def test_profile_keeps_no_sample_above_the_sample_size() -> None:
    income = numerical(ReferenceProfile.fit(mixed_frame(), SCHEMA, sample_size=100), "income")
    assert income.sample is None


def test_reference_cells_equal_counting_the_reference_again() -> None:
    frame = mixed_frame()
    income = numerical(ReferenceProfile.fit(frame, SCHEMA), "income")
    again = count_cells(income.grid, np.sort(frame["income"].dropna().to_numpy()))
    assert np.array_equal(again, income.cell_counts)


def test_grid_cells_separate_values_on_and_between_grid_points() -> None:
    cells = count_cells(np.array([1.0, 2.0]), np.array([0.5, 1.0, 1.0, 1.5, 2.0, 3.0]))
    assert cells.tolist() == [1, 2, 1, 1, 1]


def test_zero_one_feature_gets_a_bin_for_each_value() -> None:
    frame = pd.DataFrame({"flag": np.r_[np.zeros(700), np.ones(300)]})
    flag = numerical(ReferenceProfile.fit(frame, [FeatureSpec("flag", "numerical")]), "flag")
    assert flag.bin_counts(flag.cell_counts).tolist() == [0, 700, 300, 0]


def test_continuous_feature_gets_the_requested_bins_plus_two_catch_alls() -> None:
    income = numerical(ReferenceProfile.fit(mixed_frame(), SCHEMA, bins=10), "income")
    counts = income.bin_counts(income.cell_counts)
    assert (counts.size, counts[0], counts[-1]) == (12, 0, 0)


def test_categorical_profile_counts_each_category() -> None:
    frame = pd.DataFrame({"plan": ["pro", "basic", "pro", None]})
    plan = categorical(ReferenceProfile.fit(frame, [FeatureSpec("plan", "categorical")]), "plan")
    assert (plan.categories, plan.counts, plan.n_missing) == (("basic", "pro"), (1, 2), 1)


def test_boolean_profile_has_the_categories_false_and_true() -> None:
    active = categorical(ReferenceProfile.fit(mixed_frame(), SCHEMA), "active")
    assert active.categories == ("false", "true")


def test_fit_refuses_a_schema_feature_missing_from_the_frame() -> None:
    with pytest.raises(ValueError, match=r"no column for feature.*tenure"):
        ReferenceProfile.fit(mixed_frame(), [*SCHEMA, FeatureSpec("tenure", "numerical")])


def test_fit_refuses_a_feature_named_twice() -> None:
    with pytest.raises(ValueError, match="more than once: plan"):
        ReferenceProfile.fit(mixed_frame(), [*SCHEMA, FeatureSpec("plan", "categorical")])


def test_fit_refuses_a_bin_count_below_one() -> None:
    with pytest.raises(ValueError, match=r"bins must be an integer in \[1, 1000\], got 0"):
        ReferenceProfile.fit(mixed_frame(), SCHEMA, bins=0)


def test_feature_spec_refuses_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="kind of feature 'x' must be one of numerical"):
        FeatureSpec("x", "ordinal")  # type: ignore[arg-type]


def test_from_json_refuses_a_document_of_another_format() -> None:
    with pytest.raises(ValueError, match=r"not a detectors\.ReferenceProfile version 1 document"):
        ReferenceProfile.from_json('{"format": "other", "version": 1}')
