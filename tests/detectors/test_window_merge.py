"""A window summarised in parts and merged gives what one pass over it gives: the same verdicts,
methods and counts on every conformance shape, statistics within floating-point rounding, both on
the exact path (small windows keep their values) and on the grid path."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from benchmarks.shapes import SHAPES, Shape
from detectors import (
    DriftConfig,
    FeatureSpec,
    MultivariateProfile,
    MultivariateWindow,
    ReferenceProfile,
    detect_drift,
    judge_multivariate,
    judge_windows,
    merge_summaries,
    multivariate_drift,
    summarize_frame,
)
from detectors.results import DatasetDriftReport
from detectors.window import merge_windows, summarize
from tests.factories import correlated_frame

REFERENCE_ROWS = 20_000
# Only sums of values (Wasserstein's out-of-range mass, the mean error) are added in another
# order; everything else is integer counts, so this is rounding, not approximation.
RELATIVE = 1e-9


def _parts(frame: pd.DataFrame, cuts: list[int]) -> list[pd.DataFrame]:
    bounds = [0, *cuts, len(frame)]
    return [frame.iloc[a:b].reset_index(drop=True) for a, b in itertools.pairwise(bounds)]


def _merged(profile: ReferenceProfile, parts: list[pd.DataFrame]) -> DatasetDriftReport:
    summaries = [summarize_frame(profile, part) for part in parts]
    merged = summaries[0]
    for summary in summaries[1:]:
        merged = merge_summaries(profile, merged, summary)
    return judge_windows(profile, merged)


def _assert_same(streamed: DatasetDriftReport, exact: DatasetDriftReport) -> None:
    assert streamed.drifted == exact.drifted
    for ours, theirs in zip(streamed.features, exact.features, strict=True):
        assert ours.drifted == theirs.drifted
        assert ours.quality == theirs.quality
        for a, b in zip(ours.results, theirs.results, strict=True):
            assert (a.test, a.method, a.drifted, a.n_cur, a.message) == (
                b.test,
                b.method,
                b.drifted,
                b.n_cur,
                b.message,
            )
            assert a.new_categories == b.new_categories
            assert math.isclose(a.statistic, b.statistic, rel_tol=RELATIVE, abs_tol=1e-12)
            if b.p_value is not None:
                assert a.p_value is not None
                assert math.isclose(a.p_value, b.p_value, rel_tol=RELATIVE, abs_tol=1e-12)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: shape.name)
@pytest.mark.parametrize(("rows", "shifted"), [(3_000, False), (3_000, True), (40_000, True)])
def test_summaries_merged_from_parts_judge_like_one_pass(
    shape: Shape, rows: int, shifted: bool
) -> None:
    spec = FeatureSpec("x", shape.kind)
    reference = pd.DataFrame({"x": shape.draw(np.random.default_rng(0), REFERENCE_ROWS, False)})
    profile = ReferenceProfile.fit(reference, [spec])
    window = pd.DataFrame({"x": shape.draw(np.random.default_rng(rows), rows, shifted)})
    exact = detect_drift(profile, window)
    streamed = _merged(profile, _parts(window, [rows // 7, rows // 7 + 1, rows // 2]))
    _assert_same(streamed, exact)


def test_merging_keeps_missing_type_errors_infinities_and_unseen_categories() -> None:
    specs = [FeatureSpec("x", "numerical"), FeatureSpec("plan", "categorical")]
    reference = pd.DataFrame({"x": np.linspace(0, 1, 500), "plan": ["a", "b"] * 250})
    profile = ReferenceProfile.fit(reference, specs)
    window = pd.DataFrame(
        {
            "x": [0.5, None, "oops", np.inf, 2.0, "bad", 0.1, -np.inf] * 40,
            "plan": ["a", None, "z", "b", 3, "y", "z", [1]] * 40,
        }
    )
    exact = detect_drift(profile, window)
    streamed = _merged(profile, _parts(window, [3, 100, 101]))
    _assert_same(streamed, exact)
    assert "infinite" in (streamed.feature("x").primary.message or "")


def test_merge_is_associative_and_order_free_on_the_counts() -> None:
    spec = FeatureSpec("x", "numerical")
    rng = np.random.default_rng(5)
    profile = ReferenceProfile.fit(pd.DataFrame({"x": rng.normal(size=5_000)}), [spec])
    keep = DriftConfig().tests_for(spec)[0].values_needed()
    parts = [
        summarize(profile.features[0], pd.Series(rng.normal(size=n)), keep_values=keep)
        for n in (10, 2_000, 9_000)
    ]
    left = merge_windows(
        merge_windows(parts[0], parts[1], keep_values=keep), parts[2], keep_values=keep
    )
    right = merge_windows(
        parts[2], merge_windows(parts[1], parts[0], keep_values=keep), keep_values=keep
    )
    assert left.n == right.n == 11_010
    assert np.array_equal(left.cell_counts, right.cell_counts)  # type: ignore[union-attr]
    assert left.values is None  # past the exact tests' size: the grid path, as one pass


def test_multivariate_summaries_merged_from_parts_judge_like_one_pass() -> None:
    specs = [FeatureSpec(name, "numerical") for name in ("x1", "x2", "x3")]
    profile = MultivariateProfile.fit(correlated_frame(4_000, 0.8, seed=1), specs)
    window = correlated_frame(3_000, 0.2, seed=2)
    exact = multivariate_drift(profile, window)
    parts = [MultivariateWindow.of(profile, part) for part in _parts(window, [1, 1_500])]
    merged = parts[0].merge(parts[1]).merge(parts[2])
    streamed = judge_multivariate(profile, merged)
    assert (streamed.drifted, streamed.n_cur, streamed.message) == (
        exact.drifted,
        exact.n_cur,
        exact.message,
    )
    assert math.isclose(streamed.statistic, exact.statistic, rel_tol=RELATIVE)
