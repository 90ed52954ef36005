"""Jensen-Shannon distance on the PSI bins."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial import distance

from detectors import FeatureSpec, ReferenceProfile
from detectors.stattests import JensenShannon
from detectors.stattests.bins import binned_counts
from detectors.window import summarize


def test_jensen_shannon_matches_scipy_on_the_numerical_bin_shares() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=3_000)})
    profile = ReferenceProfile.fit(frame, [FeatureSpec("x", "numerical")]).features[0]
    window = summarize(profile, pd.Series(rng.normal(0.4, 1.3, size=2_000)))
    ref, cur = binned_counts(profile, window)
    expected = distance.jensenshannon(ref / ref.sum(), cur / cur.sum())
    assert JensenShannon().test(profile, window).statistic == pytest.approx(expected, abs=1e-9)


def test_jensen_shannon_matches_scipy_on_category_shares() -> None:
    frame = pd.DataFrame({"x": ["a"] * 500 + ["b"] * 300 + ["c"] * 200})
    profile = ReferenceProfile.fit(frame, [FeatureSpec("x", "categorical")]).features[0]
    window = summarize(profile, pd.Series(["a"] * 200 + ["b"] * 200 + ["d"] * 100))
    expected = distance.jensenshannon([0.5, 0.3, 0.2, 0.0], [0.4, 0.4, 0.0, 0.2])
    assert JensenShannon().test(profile, window).statistic == pytest.approx(expected, abs=1e-9)
