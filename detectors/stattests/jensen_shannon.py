"""Jensen-Shannon distance on the same bins as PSI."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from scipy.spatial import distance

from detectors.profile import FeatureProfile
from detectors.schema import FeatureKind
from detectors.stattests.base import Outcome, StatTest
from detectors.stattests.bins import binned_counts, binned_p_value, no_drift_divergence
from detectors.window import FeatureWindow


@dataclass(frozen=True, slots=True)
class JensenShannon(StatTest):
    """Jensen-Shannon distance (natural log, as ``scipy.spatial.distance.jensenshannon``) between
    the reference and window shares over the PSI bins. Bounded by sqrt(ln 2) ~ 0.83.

    The p-value is Pearson's chi-squared homogeneity test on the same bins, as for PSI. The
    effect size is the distance with the divergence expected with no drift taken out,
    sqrt(max(0, JS^2 - no_drift_divergence / 8)).

    >>> JensenShannon().threshold
    0.035
    """

    name: ClassVar[str] = "jensen_shannon"
    kinds: ClassVar[frozenset[FeatureKind]] = frozenset(FeatureKind)
    max_threshold: ClassVar[float] = 1.0
    threshold: float = 0.035
    p_value_threshold: float | None = 0.01

    def _compute(self, reference: FeatureProfile, window: FeatureWindow) -> Outcome:
        ref, cur = binned_counts(reference, window)
        value = float(distance.jensenshannon(ref / ref.sum(), cur / cur.sum()))
        effect = math.sqrt(max(0.0, value**2 - no_drift_divergence(ref, cur) / 8))
        return Outcome(value, effect, binned_p_value(reference, ref, cur), "bins")
