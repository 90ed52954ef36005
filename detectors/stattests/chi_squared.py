"""Pearson chi-squared test of homogeneity over the union of categories."""

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
from detectors.window import CategoricalWindow, FeatureWindow


@dataclass(frozen=True, slots=True)
class ChiSquared(StatTest):
    """Chi-squared on the 2 x k table (reference counts, window counts) over every category seen
    on either side, as ``scipy.stats.chi2_contingency(table, correction=False)``.

    A category unseen in the reference is one more column (its expected count is positive, so
    the statistic stays finite) and is listed in ``new_categories``. The effect size is Cohen's
    w = sqrt(chi2 / n_eff), which does not grow with the sample sizes.

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
        ref = np.asarray((*reference.counts, *(0 for _ in window.new_counts)), dtype=np.int64)
        cur = np.asarray((*window.counts, *window.new_counts), dtype=np.int64)
        outcome = homogeneity_test(ref, cur)
        if outcome is None:
            note = "a single category on both sides; nothing to compare"
            return Outcome(0.0, 0.0, 1.0, "contingency", (note,))
        statistic, p_value = outcome
        n_eff = effective_size(int(ref.sum()), int(cur.sum()))
        return Outcome(statistic, math.sqrt(statistic / n_eff), p_value, "contingency")
