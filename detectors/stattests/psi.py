"""Population Stability Index on reference-quantile bins or categories."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from detectors.profile import FeatureProfile
from detectors.schema import FeatureKind
from detectors.stattests.base import Outcome, StatTest
from detectors.stattests.bins import binned_counts, binned_p_value, no_drift_divergence
from detectors.validation import check_float
from detectors.window import FeatureWindow


@dataclass(frozen=True, slots=True)
class PopulationStabilityIndex(StatTest):
    """PSI = sum((q - p) * ln(q / p)) over bins, p reference shares, q window shares.

    Numerical features use the profile's reference-quantile bins plus catch-all bins below the
    reference minimum and above its maximum; categorical ones the reference categories plus one
    bucket for unseen categories. Empty bins get the share ``epsilon`` (as Evidently does). The
    p-value is Pearson's chi-squared homogeneity test on the same bins (see
    :func:`detectors.stattests.bins.binned_p_value`). The effect size is PSI less its expected
    value with no drift (:func:`detectors.stattests.bins.no_drift_divergence`), at least 0.

    >>> PopulationStabilityIndex(threshold=0.2)
    PopulationStabilityIndex(threshold=0.2, p_value_threshold=0.01, epsilon=0.0001)
    >>> PopulationStabilityIndex(epsilon=0)
    Traceback (most recent call last):
    ...
    ValueError: epsilon must be a number in (0.0, 0.01], got 0
    """

    name: ClassVar[str] = "psi"
    kinds: ClassVar[frozenset[FeatureKind]] = frozenset(FeatureKind)
    max_threshold: ClassVar[float] = 100.0
    threshold: float = 0.01
    p_value_threshold: float | None = 0.01
    epsilon: float = 1e-4

    def __post_init__(self) -> None:
        StatTest.__post_init__(self)  # zero-argument super() does not work in slots dataclasses
        check_float("epsilon", self.epsilon, 0.0, 0.01, open_low=True)

    def _compute(self, reference: FeatureProfile, window: FeatureWindow) -> Outcome:
        ref, cur = binned_counts(reference, window)
        p = _floored_shares(ref, self.epsilon)
        q = _floored_shares(cur, self.epsilon)
        psi = float(np.sum((q - p) * np.log(q / p)))
        effect = max(0.0, psi - no_drift_divergence(ref, cur))
        return Outcome(psi, effect, binned_p_value(reference, ref, cur), "bins")


def _floored_shares(counts: np.ndarray, epsilon: float) -> np.ndarray:
    shares = counts / counts.sum()
    return np.where(counts == 0, epsilon, shares)
