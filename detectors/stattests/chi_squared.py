"""Pearson chi-squared test of homogeneity over the categories, rare and unseen ones pooled."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from detectors.profile import CategoricalProfile, FeatureProfile
from detectors.schema import FeatureKind
from detectors.stattests.base import (
    Outcome,
    StatTest,
    effective_size,
    narrow,
)
from detectors.stattests.bins import homogeneity_test
from detectors.stattests.categories import category_counts
from detectors.window import CategoricalWindow, FeatureWindow


@dataclass(frozen=True, slots=True)
class ChiSquared(StatTest):
    """Chi-squared on the 2 x k table (reference counts, window counts), as
    ``scipy.stats.chi2_contingency(table, correction=False)``, over the cells of
    :func:`detectors.stattests.categories.category_counts`: categories whose expected count is
    under 5 and frequent unseen categories share one "other" cell; rare unseen ones are left
    to the data-quality check (they are still listed in ``new_categories``).

    The effect size is the bias-corrected Cohen's w = sqrt(max(0, chi2 - df) / n_eff): chi2 of
    a table without drift averages its degrees of freedom, so plain sqrt(chi2 / n_eff) of a
    small window with many cells is mostly noise; the corrected w is about 0 there and
    converges to Cohen's w as the window grows.

    >>> ChiSquared(threshold=0.3).p_value_threshold
    0.01
    """

    name: ClassVar[str] = "chi_squared"
    kinds: ClassVar[frozenset[FeatureKind]] = frozenset(
        {FeatureKind.CATEGORICAL, FeatureKind.BOOLEAN}
    )
    max_threshold: ClassVar[float] = 10.0
    threshold: float = 0.1
    p_value_threshold: float | None = 0.01

    def _compute(self, reference: FeatureProfile, window: FeatureWindow) -> Outcome:
        reference, window = narrow(reference, window, CategoricalProfile, CategoricalWindow)
        ref, cur = category_counts(reference, window)
        return contingency_outcome(ref, cur, "contingency")


def contingency_outcome(ref: np.ndarray, cur: np.ndarray, method: str) -> Outcome:
    """Chi-squared homogeneity test on two rows of counts with the bias-corrected Cohen's w."""
    outcome = homogeneity_test(ref, cur)
    n_cur = int(cur.sum())
    if outcome is None or n_cur == 0:
        note = "a single category on both sides; nothing to compare"
        return Outcome(0.0, 0.0, 1.0, method, (note,))
    statistic, p_value = outcome
    df = int(np.count_nonzero((ref + cur) > 0)) - 1
    n_eff = effective_size(int(ref.sum()), n_cur)
    return Outcome(statistic, math.sqrt(max(0.0, statistic - df) / n_eff), p_value, method)
