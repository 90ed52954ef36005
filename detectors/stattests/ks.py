"""Two-sample Kolmogorov-Smirnov test: exact on small samples, on the quantile grid above."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy import stats

from detectors.columns import FloatArray
from detectors.profile import FeatureProfile, NumericalProfile
from detectors.stattests.base import Outcome, effective_size, narrow
from detectors.stattests.bins import homogeneity_test
from detectors.stattests.categories import pool_rare
from detectors.stattests.grid import NumericalTest, cell_cdfs
from detectors.window import FeatureWindow, NumericalWindow

_KSTWO_MAX_N = 10_000


@dataclass(frozen=True, slots=True)
class KolmogorovSmirnov(NumericalTest):
    """KS distance D = max |F_ref - F_cur|, two-sided.

    ``method="exact"`` when the profile kept the whole reference sample and the window has at
    most ``exact_max_size`` values: the result is ``scipy.stats.ks_2samp`` on both samples
    (its p-value is exact up to 10,000 values per side, asymptotic above). Otherwise
    ``method="grid"``: D on the profile's quantile grid (under-estimates the exact D by at most
    the reference mass between two grid values, ~1/grid_size) with Smirnov's asymptotic p-value,
    computed as scipy's ``method="asymp"`` (Kolmogorov's limit above an effective size of 10,000).

    A discrete reference (2 to 20 distinct values, see
    :attr:`detectors.profile.NumericalProfile.discrete`) gives ``method="discrete"``: D on the
    grid, exact there since every reference value is a grid value, with the p-value of Pearson's
    chi-squared homogeneity test on the values (window values the reference never took, and
    values expecting fewer than 5 rows, pooled as for categories). KS p-values assume continuous
    data and are far too conservative with ties.

    >>> KolmogorovSmirnov(exact_max_size=-1)
    Traceback (most recent call last):
    ...
    ValueError: exact_max_size must be an integer in [0, 1000000], got -1
    """

    name: ClassVar[str] = "ks"
    max_threshold: ClassVar[float] = 1.0
    threshold: float = 0.1
    p_value_threshold: float | None = 0.01
    exact_max_size: int = 10_000

    def _compute(self, reference: FeatureProfile, window: FeatureWindow) -> Outcome:
        profile, summary = narrow(reference, window, NumericalProfile, NumericalWindow)
        if profile.discrete:
            return _discrete(profile, summary)
        return NumericalTest._compute(self, reference, window)  # super() fails in slots classes

    def _exact(
        self, reference: NumericalProfile, reference_sample: FloatArray, window_values: FloatArray
    ) -> Outcome:
        result = stats.ks_2samp(reference_sample, window_values)
        d = float(result.statistic)
        return Outcome(d, d, float(result.pvalue), "exact")

    def _grid(self, reference: NumericalProfile, window: NumericalWindow) -> Outcome:
        ref, cur = cell_cdfs(reference, window)
        d = float(np.max(np.abs(ref - cur)))
        return Outcome(d, d, _asymptotic_p_value(d, effective_size(reference.n, window.n)), "grid")


def _asymptotic_p_value(d: float, n_eff: float) -> float:
    """Smirnov's distribution as scipy's ``method="asymp"`` (``kstwo`` at round(n_eff)); above
    n_eff = 10,000 its Kolmogorov limit, within 1% of it and free of kstwo's slow cases there
    (up to half a second per call)."""
    if n_eff <= _KSTWO_MAX_N:
        return float(stats.kstwo.sf(d, round(n_eff)))
    return float(stats.kstwobign.sf(d * math.sqrt(n_eff)))


def _discrete(reference: NumericalProfile, window: NumericalWindow) -> Outcome:
    ref_cdf, cur_cdf = cell_cdfs(reference, window)
    d = float(np.max(np.abs(ref_cdf - cur_cdf)))
    at_values = window.cell_counts[1::2]
    ref, cur = pool_rare(reference.cell_counts[1::2], at_values, window.n - int(at_values.sum()))
    outcome = homogeneity_test(ref, cur)
    return Outcome(d, d, 1.0 if outcome is None else outcome[1], "discrete")
