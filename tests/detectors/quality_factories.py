"""Seeded generators of features, model outputs and late labels for the model-quality tests.

The binary world: three standard-normal features (each shifted by ``shift`` under covariate
shift), a label drawn as ``y ~ Bernoulli(sigmoid(x @ weights - 0.3))`` and a model scoring
``sigmoid(0.6 * x @ WEIGHTS + 0.2)``: it ranks rows as the original concept does but is
miscalibrated (too timid, shifted), so estimation has to calibrate it. Concept drift changes
``weights`` while P(x) stays the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from detectors import FeatureSpec

WEIGHTS = np.array([1.2, -0.8, 0.5])
FEATURES = ("x1", "x2", "x3")
SCHEMA = tuple(FeatureSpec(name, "numerical") for name in FEATURES)
CLASSES = ("cat", "dog", "eel")


@dataclass(frozen=True)
class Sample:
    features: pd.DataFrame
    scores: npt.NDArray[np.float64]
    labels: npt.NDArray[np.int64]


def sigmoid(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-z))


def binary_sample(
    rows: int,
    seed: int,
    *,
    shift: Sequence[float] = (0.0, 0.0, 0.0),
    weights: npt.NDArray[np.float64] = WEIGHTS,
) -> Sample:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 3)) + np.asarray(shift)
    labels = (rng.random(rows) < sigmoid(x @ weights - 0.3)).astype(np.int64)
    scores = sigmoid(0.6 * (x @ WEIGHTS) + 0.2)
    return Sample(pd.DataFrame(x, columns=list(FEATURES)), scores, labels)


def multiclass_sample(
    rows: int, seed: int, *, shift: float = 0.0
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.str_]]:
    """Class probabilities (rows x 3, the order of ``CLASSES``) from a tempered softmax of the
    true class logits, and labels drawn from the untempered ones."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 2)) + shift
    logits = x @ np.array([[1.5, -1.0, 0.0], [0.0, 1.0, -1.2]])
    truth = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    drawn = (rng.random(rows)[:, None] > np.cumsum(truth, axis=1)).sum(axis=1)
    tempered = np.exp(0.7 * logits)
    scores = tempered / tempered.sum(axis=1, keepdims=True)
    return scores, np.asarray(CLASSES)[np.minimum(drawn, 2)]


def with_missing_labels(labels: npt.NDArray[np.int64], labelled: int) -> pd.Series:
    """The labels known so far: the first ``labelled`` rows, the rest missing (None)."""
    known = pd.Series(labels, dtype=object)
    known[labelled:] = None
    return known
