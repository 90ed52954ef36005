"""One conformance suite run over every registered test and every feature kind it accepts.

The reference is a 100,000-row profile, so every test runs on the profile's grid and bins (the
path large references take); a 10,000-row reference, whose sorted sample the profile keeps, also
covers the exact KS and Wasserstein paths for windows of up to 10,000 rows. Each scenario draws
200 seeded windows; a known shift (0.5 standard deviations in the mean; 10 points added to the 50%
category, the others shrinking in proportion) must be flagged in at least 95% of them for windows
of 1,000 to 1,000,000 rows, and with no shift at most 5% may be flagged for windows of 100 to
1,000,000 rows, all at default settings.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from detectors import TESTS, FeatureKind, FeatureSpec, ReferenceProfile, make_test
from detectors.profile import FeatureProfile
from detectors.registry import stat_test_from_dict
from detectors.stattests import (  # noqa: F401  (names for eval(repr(test)))
    ChiSquared,
    JensenShannon,
    KolmogorovSmirnov,
    PopulationStabilityIndex,
    StatTest,
    Wasserstein,
)
from detectors.window import FeatureWindow, summarize

GRID_REFERENCE, EXACT_REFERENCE = 100_000, 10_000
TRIALS = 200
MAX_FLAGGED_WITHOUT_SHIFT = TRIALS * 5 // 100
MIN_FLAGGED_WITH_SHIFT = TRIALS * 95 // 100
SHIFT_SCENARIOS = [
    *((GRID_REFERENCE, n) for n in (1_000, 10_000, 100_000, 1_000_000)),
    *((EXACT_REFERENCE, n) for n in (1_000, 10_000)),
]
NULL_SCENARIOS = [
    *((GRID_REFERENCE, n) for n in (100, 1_000, 10_000, 100_000, 1_000_000)),
    *((EXACT_REFERENCE, n) for n in (100, 1_000, 10_000)),
]

CATEGORY_SHARES = {
    FeatureKind.CATEGORICAL: (("a", "b", "c"), (0.5, 0.3, 0.2), (0.6, 0.24, 0.16)),
    FeatureKind.BOOLEAN: ((False, True), (0.5, 0.5), (0.4, 0.6)),
}

CASES = [
    pytest.param(name, kind, id=f"{name}-{kind.value}")
    for name, cls in sorted(TESTS.items())
    for kind in sorted(cls.kinds)
]


def scenarios(pairs: list[tuple[int, int]]) -> list[object]:
    return [
        pytest.param(
            reference_rows,
            n,
            id=f"reference{reference_rows}-window{n}",
            marks=[pytest.mark.slow] if n >= 1_000_000 else [],
        )
        for reference_rows, n in pairs
    ]


def draw(kind: FeatureKind, shifted: bool, n: int, seed: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    if kind is FeatureKind.NUMERICAL:
        return pd.Series(rng.standard_normal(n) + (0.5 if shifted else 0.0))
    labels, shares, shifted_shares = CATEGORY_SHARES[kind]
    codes = rng.choice(len(labels), size=n, p=shifted_shares if shifted else shares)
    if kind is FeatureKind.BOOLEAN:
        return pd.Series(codes.astype(bool))
    return pd.Series(pd.Categorical.from_codes(codes, categories=labels))


@functools.cache
def reference_profile(kind: FeatureKind, rows: int = GRID_REFERENCE) -> FeatureProfile:
    frame = pd.DataFrame({"feature": draw(kind, shifted=False, n=rows, seed=0)})
    return ReferenceProfile.fit(frame, [FeatureSpec("feature", kind)]).features[0]


@functools.cache
def windows(
    kind: FeatureKind, reference_rows: int, shifted: bool, n: int
) -> tuple[FeatureWindow, ...]:
    reference = reference_profile(kind, reference_rows)
    return tuple(
        summarize(reference, draw(kind, shifted, n, seed=1_000 * n + trial), keep_values=10_000)
        for trial in range(TRIALS)
    )


def flagged(test: StatTest, kind: FeatureKind, reference_rows: int, shifted: bool, n: int) -> int:
    reference = reference_profile(kind, reference_rows)
    windows_drawn = windows(kind, reference_rows, shifted, n)
    return sum(test.test(reference, window).drifted for window in windows_drawn)


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_repr_rebuilds_an_equal_test(name: str, kind: FeatureKind) -> None:
    test = make_test(name)
    assert eval(repr(test)) == test


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_config_round_trips_through_a_dict(name: str, kind: FeatureKind) -> None:
    test = make_test(name, threshold=0.123)
    assert stat_test_from_dict(test.to_dict()) == test


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_result_is_deterministic_for_a_seed(name: str, kind: FeatureKind) -> None:
    reference = reference_profile(kind)
    first, second = (
        make_test(name).test(reference, summarize(reference, draw(kind, True, 5_000, seed=7)))
        for _ in range(2)
    )
    assert first == second


@pytest.mark.parametrize(("reference_rows", "n"), scenarios(SHIFT_SCENARIOS))
@pytest.mark.parametrize(("name", "kind"), CASES)
def test_known_shift_is_flagged_in_95_percent_of_trials(
    name: str, kind: FeatureKind, reference_rows: int, n: int
) -> None:
    flags = flagged(make_test(name), kind, reference_rows, True, n)
    assert flags >= MIN_FLAGGED_WITH_SHIFT


@pytest.mark.parametrize(("reference_rows", "n"), scenarios(NULL_SCENARIOS))
@pytest.mark.parametrize(("name", "kind"), CASES)
def test_no_shift_is_flagged_in_at_most_5_percent_of_trials(
    name: str, kind: FeatureKind, reference_rows: int, n: int
) -> None:
    flags = flagged(make_test(name), kind, reference_rows, False, n)
    assert flags <= MAX_FLAGGED_WITHOUT_SHIFT


def test_exact_reference_scenarios_take_the_exact_path() -> None:
    reference = reference_profile(FeatureKind.NUMERICAL, EXACT_REFERENCE)
    window = windows(FeatureKind.NUMERICAL, EXACT_REFERENCE, False, 10_000)[0]
    assert make_test("ks").test(reference, window).method == "exact"
