"""Comparing global feature importances: NDCG of a ranking, its no-drift threshold learned from
reference subsamples, and bootstrap intervals of each feature's importance change.

Inputs are per-row importance magnitudes (|SHAP| per row and feature); no model is involved.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# The NDCG threshold is this quantile of NDCG between disjoint reference halves.
THRESHOLD_QUANTILE = 0.05
DRAWS = 200
# Fewer rows per subsample than this and the learned threshold would be noise itself.
MIN_SUBSAMPLE = 20


def ndcg(
    baseline_importance: Sequence[float] | FloatArray,
    current_importance: Sequence[float] | FloatArray,
    *,
    top_k: int | None = None,
) -> float:
    """NDCG of the current ranking with the baseline importances as relevance.

    >>> ndcg([0.5, 0.3, 0.2], [0.6, 0.3, 0.1])
    1.0
    >>> round(ndcg([0.5, 0.3, 0.2], [0.1, 0.3, 0.6]), 3)
    0.81
    """
    relevance = np.asarray(baseline_importance, dtype=np.float64)
    k = len(relevance) if top_k is None else top_k
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = float(np.sum(relevance[rank_order(relevance)][:k] * discounts))
    if ideal == 0:
        return 1.0
    order = rank_order(current_importance, tie_break=ranks(relevance))
    return float(np.sum(relevance[order][:k] * discounts)) / ideal


def ndcg_threshold(
    magnitudes: FloatArray, window_rows: int, *, seed: int, top_k: int | None = None
) -> float | None:
    """The :data:`THRESHOLD_QUANTILE` quantile of NDCG between two disjoint random subsamples of
    the reference rows, each of the window's size (at most half the reference), over
    :data:`DRAWS` draws; None when the reference has too few rows for two subsamples of
    :data:`MIN_SUBSAMPLE`.

    Each side of a pair is as noisy as the window sample (more than the full reference), so the
    threshold errs on the side of fewer false alarms.
    """
    size = min(window_rows, magnitudes.shape[0] // 2)
    if size < MIN_SUBSAMPLE:
        return None
    rng = np.random.default_rng(seed)
    scores = []
    for _ in range(DRAWS):
        rows = rng.permutation(magnitudes.shape[0])
        first = magnitudes[rows[:size]].mean(axis=0)
        second = magnitudes[rows[size : 2 * size]].mean(axis=0)
        scores.append(ndcg(first, second, top_k=top_k))
    return float(np.quantile(scores, THRESHOLD_QUANTILE))


def change_intervals(
    reference: FloatArray, current: FloatArray, *, seed: int, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Percentile-bootstrap interval of each feature's importance change (current mean minus
    reference mean of the per-row magnitudes), both samples resampled, :data:`DRAWS` draws."""
    rng = np.random.default_rng(seed)

    def resampled_means(rows: FloatArray) -> FloatArray:
        n = rows.shape[0]
        weights = rng.multinomial(n, np.full(n, 1.0 / n), size=DRAWS) / n
        means: FloatArray = weights @ rows
        return means

    changes = resampled_means(current) - resampled_means(reference)
    tail = (1 - confidence) / 2
    low, high = np.quantile(changes, [tail, 1 - tail], axis=0)
    return low, high


def rank_order(
    importance: Sequence[float] | FloatArray, tie_break: Sequence[int] | None = None
) -> npt.NDArray[np.int64]:
    """Feature indices from most to least important; ties by ``tie_break`` then position."""
    values = np.asarray(importance, dtype=np.float64)
    secondary = np.arange(values.size) if tie_break is None else np.asarray(tie_break)
    return np.lexsort((secondary, -values)).astype(np.int64)


def ranks(importance: Sequence[float] | FloatArray) -> list[int]:
    """Each feature's rank, 1 for the most important."""
    result = [0] * len(importance)
    for position, index in enumerate(rank_order(importance), start=1):
        result[int(index)] = position
    return result
