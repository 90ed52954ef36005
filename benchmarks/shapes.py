"""The data shapes the conformance report measures: each draws a reference-distributed sample or
one with the report's known shift (0.5 standard deviations in the mean for numericals, 10 points
added to the most frequent category for categoricals, the others shrinking in proportion)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from detectors.schema import FeatureKind

Draw = Callable[[np.random.Generator, int, bool], pd.Series]


@dataclass(frozen=True, slots=True)
class Shape:
    name: str
    kind: FeatureKind
    draw: Draw


def _normal(rng: np.random.Generator, n: int, shifted: bool) -> pd.Series:
    return pd.Series(rng.standard_normal(n) + (0.5 if shifted else 0.0))


def _lognormal(rng: np.random.Generator, n: int, shifted: bool) -> pd.Series:
    sd = float(np.sqrt((np.e - 1) * np.e))  # standard deviation of lognormal(0, 1)
    return pd.Series(rng.lognormal(0.0, 1.0, n) + (0.5 * sd if shifted else 0.0))


def _zero_inflated(rng: np.random.Generator, n: int, shifted: bool) -> pd.Series:
    """60% zeros, else exponential(1): mean 0.4, standard deviation sqrt(0.64)."""
    values = np.where(rng.random(n) < 0.6, 0.0, rng.exponential(1.0, n))
    return pd.Series(values + (0.5 * 0.8 if shifted else 0.0))


def _discrete(rng: np.random.Generator, n: int, shifted: bool) -> pd.Series:
    """Counts: Poisson(1.5), shifted to Poisson(1.5 + 0.5 sqrt(1.5)) (still counts)."""
    lam = 1.5 + (0.5 * np.sqrt(1.5) if shifted else 0.0)
    return pd.Series(rng.poisson(lam, n).astype(np.float64))


@cache
def _labels(k: int) -> pd.Index:
    return pd.Index([f"c{i}" for i in range(k)])


def _categorical(weights: np.ndarray) -> Draw:
    base = weights / weights.sum()
    shifted_shares = base * (1 - (base[0] + 0.1)) / (1 - base[0])
    shifted_shares[0] = base[0] + 0.1
    cumulative = (np.cumsum(base), np.cumsum(shifted_shares))

    def draw(rng: np.random.Generator, n: int, shifted: bool) -> pd.Series:
        cdf = cumulative[shifted]
        codes = np.minimum(np.searchsorted(cdf, rng.random(n) * cdf[-1]), cdf.size - 1)
        return pd.Series(pd.Categorical.from_codes(codes, categories=_labels(cdf.size)))

    return draw


def _zipf(k: int) -> np.ndarray:
    return 1.0 / np.arange(1, k + 1)


NUMERICAL_SHAPES = (
    Shape("normal", FeatureKind.NUMERICAL, _normal),
    Shape("lognormal", FeatureKind.NUMERICAL, _lognormal),
    Shape("zero-inflated", FeatureKind.NUMERICAL, _zero_inflated),
    Shape("discrete (Poisson 1.5)", FeatureKind.NUMERICAL, _discrete),
)
CATEGORICAL_SHAPES = (
    Shape("5 categories", FeatureKind.CATEGORICAL, _categorical(np.array([40, 25, 15, 12, 8.0]))),
    Shape("30, geometric tail", FeatureKind.CATEGORICAL, _categorical(0.75 ** np.arange(30))),
    Shape("Zipf 1,000", FeatureKind.CATEGORICAL, _categorical(_zipf(1_000))),
    Shape("Zipf 50,000", FeatureKind.CATEGORICAL, _categorical(_zipf(50_000))),
)
SHAPES = NUMERICAL_SHAPES + CATEGORICAL_SHAPES
