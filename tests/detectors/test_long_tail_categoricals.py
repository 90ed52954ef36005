"""Long-tailed categoricals: rare and unseen categories pooled into one "other" cell, the effect
size corrected for its no-drift value, a single new value never drifting."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from benchmarks.shapes import CATEGORICAL_SHAPES, Shape
from detectors import FeatureSpec, ReferenceProfile, make_test
from detectors.profile import CategoricalProfile
from detectors.stattests.categories import pool_rare
from detectors.window import summarize

CATEGORICAL_TESTS = ("chi_squared", "psi", "jensen_shannon")
TRIALS = 60
FIVE, GEOMETRIC, ZIPF_1000, _ = CATEGORICAL_SHAPES


@functools.cache
def reference(shape: Shape) -> CategoricalProfile:
    frame = pd.DataFrame({"x": shape.draw(np.random.default_rng(0), 100_000, False)})
    profile = ReferenceProfile.fit(frame, [FeatureSpec("x", shape.kind)]).features[0]
    assert isinstance(profile, CategoricalProfile)
    return profile


def flagged(shape: Shape, test: str, n: int, shifted: bool) -> int:
    profile = reference(shape)
    return sum(
        make_test(test)
        .test(profile, summarize(profile, shape.draw(np.random.default_rng(seed), n, shifted)))
        .drifted
        for seed in range(TRIALS)
    )


def test_cells_expecting_fewer_than_five_rows_are_pooled_until_the_pool_expects_five() -> None:
    ref, cur = pool_rare(np.array([900, 60, 30, 10]), np.array([88, 8, 3, 1]))
    assert (ref.tolist(), cur.tolist()) == ([900, 100], [88, 12])


def test_unseen_rows_join_the_pool_and_an_ample_one_keeps_its_cell() -> None:
    ref, cur = pool_rare(np.array([500, 300, 200]), np.array([200, 200, 0]), unseen=100)
    assert (ref.tolist(), cur.tolist()) == ([500, 300, 200, 0], [200, 200, 0, 100])


@pytest.mark.parametrize("n", [100, 1_000])
@pytest.mark.parametrize("test", CATEGORICAL_TESTS)
def test_a_zipf_tail_without_drift_is_rarely_flagged(test: str, n: int) -> None:
    assert flagged(ZIPF_1000, test, n, shifted=False) <= TRIALS * 5 // 100


@pytest.mark.parametrize("test", CATEGORICAL_TESTS)
def test_ten_points_more_in_the_top_zipf_category_is_flagged(test: str) -> None:
    assert flagged(ZIPF_1000, test, 1_000, shifted=True) >= TRIALS * 95 // 100


def test_effect_size_of_a_many_celled_window_without_drift_is_not_noise() -> None:
    profile = reference(GEOMETRIC)
    sizes = [
        make_test("chi_squared")
        .test(profile, summarize(profile, GEOMETRIC.draw(np.random.default_rng(s), 1_000, False)))
        .effect_size
        for s in range(TRIALS)
    ]
    assert np.mean(sizes) < 0.05  # uncorrected Cohen's w averages 0.12 here, over the 0.1 bar


@pytest.mark.parametrize("test", CATEGORICAL_TESTS)
@pytest.mark.parametrize("n", [10, 100, 10_000])
def test_one_row_of_a_never_seen_category_does_not_drift(test: str, n: int) -> None:
    profile = reference(FIVE)
    window = pd.concat([FIVE.draw(np.random.default_rng(1), n - 1, False), pd.Series(["new"])])
    result = make_test(test).test(profile, summarize(profile, window))
    assert not result.drifted
    assert result.new_categories == ("new",)


@pytest.mark.parametrize("test", CATEGORICAL_TESTS)
def test_a_new_category_drifts_once_its_share_passes_five_points(test: str) -> None:
    profile = reference(FIVE)
    window = FIVE.draw(np.random.default_rng(2), 10_000, False)
    shares = {}
    for new_rows in (300, 800):
        frame = pd.concat([window[new_rows:], pd.Series(["new"] * new_rows)])
        shares[new_rows] = make_test(test).test(profile, summarize(profile, frame)).drifted
    assert shares == {300: False, 800: True}


def test_a_drift_result_lists_the_ten_most_frequent_new_categories() -> None:
    profile = reference(FIVE)
    new = [f"n{i:02}" for i in range(30) for _ in range(i + 1)]
    window = pd.concat([FIVE.draw(np.random.default_rng(3), 1_000, False), pd.Series(new)])
    result = make_test("chi_squared").test(profile, summarize(profile, window))
    assert result.new_categories == tuple(f"n{i:02}" for i in range(29, 19, -1))
    assert result.message is not None and "and 20 more" in result.message
