"""Numerical tests with two paths: exact on both full samples when they are at hand and small,
else on the profile's quantile grid."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import numpy as np

from detectors.columns import FloatArray
from detectors.profile import FeatureProfile, NumericalProfile
from detectors.schema import FeatureKind
from detectors.stattests.base import Outcome, StatTest, narrow
from detectors.validation import check_int
from detectors.window import FeatureWindow, NumericalWindow


class NumericalTest(StatTest):
    """Base of KS and Wasserstein. The exact path runs when the profile kept the whole reference
    sample and the window has at most ``exact_max_size`` values; otherwise the grid path."""

    __slots__ = ()
    kinds: ClassVar[frozenset[FeatureKind]] = frozenset({FeatureKind.NUMERICAL})
    exact_max_size: int

    def __post_init__(self) -> None:
        StatTest.__post_init__(self)  # zero-argument super() does not work in slots dataclasses
        check_int("exact_max_size", self.exact_max_size, 0, 1_000_000)

    def values_needed(self) -> int:
        return self.exact_max_size

    def _compute(self, reference: FeatureProfile, window: FeatureWindow) -> Outcome:
        reference, window = narrow(reference, window, NumericalProfile, NumericalWindow)
        if (
            reference.sample is not None
            and window.values is not None
            and window.n <= self.exact_max_size
        ):
            return self._exact(reference, reference.sample, window.values)
        return self._grid(reference, window)

    @abstractmethod
    def _exact(
        self, reference: NumericalProfile, reference_sample: FloatArray, window_values: FloatArray
    ) -> Outcome:
        """The test on both full sorted samples."""

    @abstractmethod
    def _grid(self, reference: NumericalProfile, window: NumericalWindow) -> Outcome:
        """The test on the grid cell counts."""


def cell_cdfs(
    reference: NumericalProfile, window: NumericalWindow
) -> tuple[FloatArray, FloatArray]:
    """Both empirical CDFs at the upper end of every grid cell.

    At the odd cells this is the CDF at a grid value, at the even cells its left limit, so the
    largest difference is the KS statistic up to the reference mass strictly between two grid
    values (about 1 / grid_size).
    """
    ref = np.cumsum(reference.cell_counts) / reference.n
    cur = np.cumsum(window.cell_counts) / window.n
    return ref, cur
