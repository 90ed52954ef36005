"""Worst slices: a quality drop planted in one pair of segment values is found and ranked first;
with no drop, runs report a significant slice at most 5% of the time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from detectors.slices import worst_slices

REGIONS = ["eu", "us", "apac", "latam", "mea"]
PLANS = ["free", "pro", "team", "enterprise"]
ROWS = 20_000


def _labelled(rng: np.random.Generator, drop: float = 0.0) -> pd.DataFrame:
    region = rng.choice(REGIONS, ROWS)
    plan = rng.choice(PLANS, ROWS)
    accuracy = 0.9 - 0.05 * (plan == "free") - 0.03 * (region == "apac")  # slices differ by nature
    accuracy = accuracy - drop * ((region == "eu") & (plan == "free"))
    return pd.DataFrame(
        {"region": region, "plan": plan, "correct": (rng.random(ROWS) < accuracy).astype(float)}
    )


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return _labelled(np.random.default_rng(0))


def test_a_planted_pair_drop_is_ranked_first(reference: pd.DataFrame) -> None:
    rng = np.random.default_rng(1)
    first = 0
    for _ in range(100):
        top = worst_slices(reference, _labelled(rng, drop=0.1), ["region", "plan"])[0]
        first += top.values == ("eu", "free") and top.significant
    assert first >= 95


def test_no_drop_reports_a_significant_slice_in_at_most_5_percent_of_runs(
    reference: pd.DataFrame,
) -> None:
    rng = np.random.default_rng(2)
    runs_with_one = sum(
        any(s.significant for s in worst_slices(reference, _labelled(rng), ["region", "plan"]))
        for _ in range(100)
    )
    assert runs_with_one <= 5


def test_a_slice_reports_its_rows_interval_and_baseline(reference: pd.DataFrame) -> None:
    top = worst_slices(reference, _labelled(np.random.default_rng(3), 0.2), ["region", "plan"])[0]
    assert top.columns == ("region", "plan")
    assert top.baseline == "slice"
    assert top.lower < top.drop < top.upper
    assert 0.15 < top.drop < 0.25
    assert top.n_cur == pytest.approx(ROWS / 20, rel=0.2)


def test_a_slice_missing_from_the_reference_is_judged_against_the_whole(
    reference: pd.DataFrame,
) -> None:
    current = _labelled(np.random.default_rng(4)).assign(region="antarctica")
    slices = worst_slices(reference, current, ["region"], top=50)
    assert {s.baseline for s in slices} == {"reference"}


def test_missing_columns_are_named() -> None:
    frame = pd.DataFrame({"region": ["eu"], "correct": [1.0]})
    with pytest.raises(ValueError, match=r"current lacks column\(s\) \['plan'\]"):
        worst_slices(frame.assign(plan="x"), frame, ["region", "plan"])
