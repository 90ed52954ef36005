"""Consecutive reference chunks: how the variability of a reference statistic is measured."""

from __future__ import annotations

import itertools

import numpy as np


def chunk_slices(size: int, chunks: int) -> list[slice]:
    """``chunks`` consecutive slices of ``range(size)`` whose lengths differ by at most one.

    Consecutive rather than shuffled, so a time-ordered reference shows its drift over time.

    >>> chunk_slices(10, 3)
    [slice(0, 3, None), slice(3, 7, None), slice(7, 10, None)]
    """
    bounds = np.linspace(0, size, chunks + 1).round().astype(int).tolist()
    return [slice(lo, hi) for lo, hi in itertools.pairwise(bounds)]
