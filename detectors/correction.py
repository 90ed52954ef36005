"""Multiple-testing correction of one test's p-values across a model's features."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import numpy as np
from scipy import stats

from detectors.results import DriftResult


class Correction(StrEnum):
    """``bh``: Benjamini-Hochberg (controls the false discovery rate; the default);
    ``bonferroni``: controls the family-wise error rate; ``none``: raw p-values."""

    NONE = "none"
    BONFERRONI = "bonferroni"
    BH = "bh"


def adjust_p_values(p_values: Sequence[float], correction: Correction) -> tuple[float, ...]:
    """Adjusted p-values, in the input order.

    >>> adjust_p_values([0.01, 0.04, 0.03], Correction.BH)
    (0.03, 0.04, 0.04)
    >>> adjust_p_values([0.01, 0.5], Correction.BONFERRONI)
    (0.02, 1.0)
    """
    values = np.asarray(p_values, dtype=np.float64)
    if values.size == 0 or correction is Correction.NONE:
        return tuple(values.tolist())
    if correction is Correction.BONFERRONI:
        return tuple(np.minimum(values * values.size, 1.0).tolist())
    return tuple(stats.false_discovery_control(values, method="bh").tolist())


def correct(results: Sequence[DriftResult], correction: Correction) -> tuple[DriftResult, ...]:
    """Correct each test's p-values across features (KS p-values with KS p-values, ...) and
    decide ``drifted`` again. Results without a p-value are returned unchanged."""
    corrected = list(results)
    for test in {result.test for result in results}:
        tested = [
            (i, r.p_value)
            for i, r in enumerate(results)
            if r.test == test and r.p_value is not None
        ]
        adjusted = adjust_p_values([p for _, p in tested], correction)
        for (i, _), p_value in zip(tested, adjusted, strict=True):
            corrected[i] = results[i].with_adjusted_p_value(p_value)
    return tuple(corrected)
