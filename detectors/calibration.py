"""Isotonic calibration of a classifier's score: score in, probability of the class out.

Pool-adjacent-violators (``scipy.optimize.isotonic_regression``) groups the reference rows,
ordered by score, into blocks with non-decreasing frequencies of the class. Each block's
probability is then its rule-of-succession estimate ``(positives + 1) / (rows + 2)`` (made
non-decreasing again by a second pass): plain isotonic regression gives the lowest and highest
blocks exactly 0 or 1 whenever they happen to be pure, and a window shifted into those score
ranges would then count its rows as certain, overstating its estimated ROC AUC. Scores between
two blocks are interpolated linearly; scores beyond the reference range take the end block's
probability.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import isotonic_regression

from detectors.columns import FloatArray, IntArray

# For each score: the block below it, the block above it, and the interpolation weight.
Placement = tuple[IntArray, IntArray, FloatArray]


@dataclass(frozen=True, slots=True)
class IsotonicCalibration:
    """Block ``b`` covers the reference scores ``lows[b]`` to ``highs[b]``, holds ``rows[b]``
    reference rows and maps to ``probabilities[b]``.

    >>> scores = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    >>> calibration = IsotonicCalibration.fit(scores, np.array([0, 0, 1, 0, 1, 1]))
    >>> calibration.lows, calibration.highs, calibration.rows
    ((0.1, 0.3, 0.5), (0.2, 0.4, 0.6), (2, 2, 2))
    >>> calibration.probabilities
    (0.25, 0.5, 0.75)
    >>> calibration.apply(np.array([0.0, 0.25, 0.35, 0.9])).tolist()
    [0.25, 0.375, 0.5, 0.75]
    """

    lows: tuple[float, ...]
    highs: tuple[float, ...]
    probabilities: tuple[float, ...]
    rows: tuple[int, ...]

    @classmethod
    def fit(cls, scores: FloatArray, outcomes: np.ndarray[Any, Any]) -> IsotonicCalibration:
        """Calibrate finite ``scores`` against 0/1 ``outcomes`` (at least one row)."""
        order = np.argsort(scores, kind="stable")
        ordered = scores[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        counts = np.diff(np.r_[starts, ordered.size]).astype(np.float64)
        positives = np.add.reduceat(outcomes[order].astype(np.float64), starts)
        pooled = _level_sets(isotonic_regression(positives / counts, weights=counts).x)
        rows = np.add.reduceat(counts, pooled[:-1])
        hits = np.add.reduceat(positives, pooled[:-1])
        smoothed = isotonic_regression((hits + 1) / (rows + 2), weights=rows + 2).x
        levels = _level_sets(smoothed)
        bounds = pooled[levels]
        distinct = ordered[starts]
        return cls(
            lows=tuple(distinct[bounds[:-1]].tolist()),
            highs=tuple(distinct[bounds[1:] - 1].tolist()),
            probabilities=tuple(smoothed[levels[:-1]].tolist()),
            rows=tuple(int(r) for r in np.add.reduceat(rows, levels[:-1])),
        )

    def placement(self, scores: FloatArray) -> Placement:
        """For each score, the blocks below and above it and the interpolation weight ``t``:
        the probability is ``(1 - t) * p[below] + t * p[above]``."""
        lows, highs = np.asarray(self.lows), np.asarray(self.highs)
        last = lows.size - 1
        below = np.clip(np.searchsorted(lows, scores, side="right") - 1, 0, last)
        above = np.minimum(below + 1, last)
        gap = lows[above] - highs[below]
        between = (scores > highs[below]) & (above > below)
        t = np.zeros(scores.shape)
        np.divide(scores - highs[below], gap, out=t, where=between)
        return below, above, t

    def apply(self, scores: FloatArray) -> FloatArray:
        return self.interpolate(self.placement(scores))

    def interpolate(self, placement: Placement) -> FloatArray:
        """The probabilities of scores already placed by :meth:`placement`."""
        below, above, t = placement
        probabilities = np.asarray(self.probabilities, dtype=np.float64)
        mixed: FloatArray = (1 - t) * probabilities[below] + t * probabilities[above]
        return mixed

    def beyond(self, scores: FloatArray) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """Which scores lie below the lowest reference score, and which above the highest: the
        calibration only extrapolates there."""
        return scores < self.lows[0], scores > self.highs[-1]

    def extrapolation_variances(self) -> tuple[float, float]:
        """Variance of the probability below and above the reference's score range. The
        calibration is monotone, so there it is only known to lie between the end block's
        probability and 0 (below) or 1 (above); taken as uniform over that span, as a window
        far from the reference is what CBPE knows least about."""
        first, last = self.probabilities[0], self.probabilities[-1]
        return first**2 / 12, (1 - last) ** 2 / 12

    def block_variances(self) -> FloatArray:
        """Variance of each block's probability (its Beta posterior): how far the calibration
        itself may be off, which widens the interval of an estimate."""
        p = np.asarray(self.probabilities, dtype=np.float64)
        variances: FloatArray = p * (1 - p) / (np.asarray(self.rows, dtype=np.float64) + 3)
        return variances

    def to_dict(self) -> dict[str, Any]:
        return {
            "lows": list(self.lows),
            "highs": list(self.highs),
            "probabilities": list(self.probabilities),
            "rows": list(self.rows),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IsotonicCalibration:
        return cls(
            tuple(data["lows"]),
            tuple(data["highs"]),
            tuple(data["probabilities"]),
            tuple(data["rows"]),
        )


def _level_sets(fitted: FloatArray) -> IntArray:
    """Start of each run of equal fitted values, plus the end: the blocks of the fit."""
    changes = np.flatnonzero(fitted[1:] != fitted[:-1]) + 1
    return np.concatenate([[0], changes, [fitted.size]]).astype(np.int64)
