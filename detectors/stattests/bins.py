"""Binned counts shared by PSI, Jensen-Shannon and chi-squared, and the homogeneity test that
gives PSI and Jensen-Shannon their p-value."""

from __future__ import annotations

import numpy as np
from scipy import stats

from detectors.columns import IntArray
from detectors.profile import FeatureProfile, NumericalProfile
from detectors.stattests.categories import category_counts
from detectors.window import CategoricalWindow, FeatureWindow, NumericalWindow


def binned_counts(reference: FeatureProfile, window: FeatureWindow) -> tuple[IntArray, IntArray]:
    """Reference and window counts over the same bins.

    Numerical: below-min catch-all, the reference-quantile bins, above-max catch-all.
    Categorical: the cells of :func:`detectors.stattests.categories.category_counts` (rare and
    unseen categories pooled).
    """
    if isinstance(reference, NumericalProfile) and isinstance(window, NumericalWindow):
        return reference.bin_counts(reference.cell_counts), reference.bin_counts(window.cell_counts)
    if isinstance(window, CategoricalWindow) and not isinstance(reference, NumericalProfile):
        return category_counts(reference, window)
    raise TypeError(f"feature {reference.name!r}: profile and window kinds differ")


def homogeneity_test(ref: IntArray, cur: IntArray) -> tuple[float, float] | None:
    """Pearson's chi-squared test that both rows of counts share one distribution, as
    ``scipy.stats.chi2_contingency(table, correction=False)`` over the bins occupied on either
    side: (statistic, p-value), or None when fewer than two bins are occupied."""
    occupied = (ref + cur) > 0
    if np.count_nonzero(occupied) < 2:
        return None
    result = stats.chi2_contingency(np.vstack([ref[occupied], cur[occupied]]), correction=False)
    return float(result.statistic), float(result.pvalue)


def binned_p_value(reference: FeatureProfile, ref: IntArray, cur: IntArray) -> float:
    """The p-value of PSI and Jensen-Shannon: the homogeneity test on their bins.

    Numerical catch-all bins are merged into their neighbours first (unless the reference is
    constant, when they are all there is): the reference has no mass there by construction, and
    a single window value beyond the reference range would otherwise dominate the statistic
    (measured: 6% false alarms at a nominal 1%).
    """
    if isinstance(reference, NumericalProfile) and ref.size > 3:
        ref = np.r_[ref[:2].sum(), ref[2:-2], ref[-2:].sum()]
        cur = np.r_[cur[:2].sum(), cur[2:-2], cur[-2:].sum()]
    outcome = homogeneity_test(ref, cur)
    return 1.0 if outcome is None else outcome[1]


def no_drift_divergence(ref: IntArray, cur: IntArray) -> float:
    """The expected sum over bins of (q - p)^2 / p between two samples of one distribution,
    (occupied bins - 1) * (1 / n_ref + 1 / n_cur): what PSI averages with no drift at all (and
    8 x the Jensen-Shannon divergence). The effect sizes subtract it, so a small window over
    many bins is not a large effect by noise alone."""
    occupied = int(np.count_nonzero((ref + cur) > 0))
    return max(occupied - 1, 0) * (1 / int(ref.sum()) + 1 / int(cur.sum()))
