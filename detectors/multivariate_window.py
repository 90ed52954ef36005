"""Multivariate drift of a window: its rows' reconstruction errors summed into a mergeable summary,
then the window's mean error judged against the profile's threshold for its size."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from detectors.multivariate import MultivariateProfile
from detectors.profile import check_schema
from detectors.results import MultivariateDriftResult
from detectors.validation import check_float

METHOD = "pca_reconstruction"
# A window drifts only when its mean error is at least 10% above the reference's: at a million
# rows a correlation change of 0.60 -> 0.58 (+2%) is significant but negligible; 0.60 -> 0.50
# is +11%.
MIN_RELATIVE_RISE = 0.1
# A window's missing share this far above the reference's is reported as a spike.
MISSING_SPIKE = 0.05


@dataclass(frozen=True, slots=True)
class MultivariateWindow:
    """What the verdict reads of a window: its row count, the sum of its rows' reconstruction
    errors, and its missing and unseen-category value counts. Parts of a window add up
    (:meth:`merge`) to the whole's summary, up to floating-point rounding of ``error_sum``."""

    n: int
    error_sum: float
    missing: int
    unseen: int

    @classmethod
    def of(cls, profile: MultivariateProfile, frame: pd.DataFrame) -> MultivariateWindow:
        check_schema(frame, profile.schema)
        if len(frame) == 0:
            return cls(0, 0.0, 0, 0)
        errors, missing, unseen = profile.errors(frame)
        return cls(len(frame), float(errors.sum()), missing, unseen)

    def merge(self, other: MultivariateWindow) -> MultivariateWindow:
        return MultivariateWindow(
            self.n + other.n,
            self.error_sum + other.error_sum,
            self.missing + other.missing,
            self.unseen + other.unseen,
        )


def multivariate_drift(
    profile: MultivariateProfile,
    current: pd.DataFrame,
    *,
    std_factor: float = 3.0,
    min_relative_rise: float = MIN_RELATIVE_RISE,
) -> MultivariateDriftResult:
    """The window's mean reconstruction error against the profile's threshold for its size.

    Drifted when the mean error exceeds the threshold and is at least ``min_relative_rise``
    above the reference mean error (a window that reconstructs *better* than the reference is
    not flagged). Missing values are imputed with the reference means and unseen categories
    encoded as no reference category; the message counts both, and a spike of missing values
    is reported (``missing_spike``).
    """
    window = MultivariateWindow.of(profile, current)
    return judge_multivariate(
        profile, window, std_factor=std_factor, min_relative_rise=min_relative_rise
    )


def judge_multivariate(
    profile: MultivariateProfile,
    window: MultivariateWindow,
    *,
    std_factor: float = 3.0,
    min_relative_rise: float = MIN_RELATIVE_RISE,
) -> MultivariateDriftResult:
    """:func:`multivariate_drift` on a window's summary (one pass, or merged parts)."""
    check_float("std_factor", std_factor, 0.0, 100.0, open_low=True)
    check_float("min_relative_rise", min_relative_rise, 0.0, 100.0, open_low=False)
    n_cur, missing, unseen = window.n, window.missing, window.unseen
    if n_cur == 0:
        return MultivariateDriftResult(
            METHOD,
            math.nan,
            profile.error_mean,
            math.nan,
            False,
            profile.n_ref,
            0,
            len(profile.components),
            "window is empty; nothing to compare",
        )
    statistic = window.error_sum / n_cur
    threshold = profile.threshold(n_cur, std_factor)
    floor = profile.error_mean * (1 + min_relative_rise)
    missing_share = missing / (n_cur * len(profile.features))
    spike = missing_share > profile.missing_share + MISSING_SPIKE
    notes = []
    if spike:
        notes.append(
            f"missing values spiked: {missing_share:.1%} of values against "
            f"{profile.missing_share:.1%} in the reference; imputing them with the reference "
            "means pulls rows toward the reference and can hide drift"
        )
    if missing:
        notes.append(f"{missing} missing values imputed with the reference means")
    if unseen:
        notes.append(f"{unseen} values in categories unseen in the reference")
    return MultivariateDriftResult(
        METHOD,
        statistic,
        profile.error_mean,
        threshold,
        statistic > threshold and statistic >= floor,
        profile.n_ref,
        n_cur,
        len(profile.components),
        "; ".join(notes) or None,
        floor=floor,
        missing_share=missing_share,
        reference_missing_share=profile.missing_share,
        missing_spike=spike,
    )
