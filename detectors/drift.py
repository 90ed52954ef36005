"""Drift runs: a window against a stored reference profile, or two samples against each other."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from detectors.config import DriftConfig
from detectors.correction import correct
from detectors.profile import ReferenceProfile, check_schema
from detectors.quality import check_quality
from detectors.results import DatasetDriftReport, DriftResult, FeatureDrift, QualityResult
from detectors.schema import FeatureSpec, infer_schema
from detectors.window import FeatureWindow, merge_windows, summarize

WindowSummary = tuple[FeatureWindow, ...]


def detect_drift(
    profile: ReferenceProfile, current: pd.DataFrame, config: DriftConfig | None = None
) -> DatasetDriftReport:
    """Run the configured tests and data-quality checks on every profiled feature of ``current``.

    Degenerate columns (empty, all missing, constant, only new categories, ...) give results
    with a ``message``; only a structurally invalid input raises ValueError (a feature column
    missing from ``current``, or a test that cannot run on a feature's kind).

    >>> reference = pd.DataFrame({"x": [i / 7 for i in range(100)]})
    >>> profile = ReferenceProfile.fit(reference, [FeatureSpec("x", "numerical")])
    >>> report = detect_drift(profile, reference + 5.0)
    >>> report.drifted, report.feature("x").primary.method
    (True, 'exact')
    """
    config = config or DriftConfig()
    return judge_windows(profile, summarize_frame(profile, current, config), config)


def kept_values(profile: ReferenceProfile, config: DriftConfig) -> tuple[int, ...]:
    """Per feature, the largest window whose sorted values its tests want (exact tests)."""
    return tuple(
        max(test.values_needed() for test in config.tests_for(spec)) for spec in profile.schema
    )


def summarize_frame(
    profile: ReferenceProfile, current: pd.DataFrame, config: DriftConfig | None = None
) -> WindowSummary:
    """Every profiled feature of ``current`` summarised for ``config``'s tests: the mergeable
    counts that :func:`judge_windows` reads (see :func:`merge_summaries`)."""
    specs = check_schema(current, profile.schema)
    keeps = kept_values(profile, config or DriftConfig())
    return tuple(
        summarize(reference, current[spec.name], keep_values=keep)
        for spec, reference, keep in zip(specs, profile.features, keeps, strict=True)
    )


def merge_summaries(
    profile: ReferenceProfile,
    first: WindowSummary,
    second: WindowSummary,
    config: DriftConfig | None = None,
) -> WindowSummary:
    """The summary of two disjoint parts of one window: what :func:`summarize_frame` gives on
    both together (out-of-range sums up to floating-point rounding), so one window can be read
    in batches or split across workers. Associative and commutative."""
    keeps = kept_values(profile, config or DriftConfig())
    return tuple(
        merge_windows(a, b, keep_values=keep)
        for a, b, keep in zip(first, second, keeps, strict=True)
    )


def judge_windows(
    profile: ReferenceProfile, windows: WindowSummary, config: DriftConfig | None = None
) -> DatasetDriftReport:
    """Run the configured tests and data-quality checks on a window's summary (one per profiled
    feature, as :func:`summarize_frame` or :func:`merge_summaries` made it)."""
    config = config or DriftConfig()
    tested = uncorrected_results(profile, windows, config)
    return tested.report(correct(tested.results, config.correction), config)


@dataclass(frozen=True, slots=True)
class UncorrectedResults:
    """Every test's raw (uncorrected) result on a window, before the multiple-testing correction,
    which may span more than one window (segments are corrected together)."""

    specs: tuple[FeatureSpec, ...]
    results: tuple[DriftResult, ...]
    quality: tuple[tuple[QualityResult, ...], ...]
    tests_per_feature: tuple[int, ...]

    def report(
        self, corrected_results: Sequence[DriftResult], config: DriftConfig
    ) -> DatasetDriftReport:
        """The report, from this window's results once corrected (in :attr:`results` order)."""
        corrected = iter(corrected_results)
        features = []
        for spec, count, checks in zip(
            self.specs, self.tests_per_feature, self.quality, strict=True
        ):
            feature_results = tuple(next(corrected) for _ in range(count))
            features.append(
                FeatureDrift(
                    spec.name, spec.kind, feature_results[0].drifted, feature_results, checks
                )
            )
        share = sum(f.drifted for f in features) / len(features) if features else 0.0
        return DatasetDriftReport(
            features=tuple(features),
            correction=config.correction.value,
            drift_share=share,
            drift_share_threshold=config.drift_share,
            drifted=bool(features) and share >= config.drift_share,
        )


def uncorrected_results(
    profile: ReferenceProfile, windows: WindowSummary, config: DriftConfig
) -> UncorrectedResults:
    """Run the configured tests and data-quality checks on a window's summary, without
    correcting the p-values."""
    results: list[DriftResult] = []
    quality: list[tuple[QualityResult, ...]] = []
    tests_per_feature = []
    specs = profile.schema
    for spec, reference, window in zip(specs, profile.features, windows, strict=True):
        tests = config.tests_for(spec)
        results.extend(test.test(reference, window) for test in tests)
        quality.append(check_quality(reference, window, config.quality))
        tests_per_feature.append(len(tests))
    return UncorrectedResults(
        tuple(specs), tuple(results), tuple(quality), tuple(tests_per_feature)
    )


def compare_samples(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    schema: Iterable[FeatureSpec] | None = None,
    *,
    config: DriftConfig | None = None,
    bins: int = 10,
) -> DatasetDriftReport:
    """Compare two arbitrary samples without a stored profile (e.g. canary against stable
    predictions): fits a profile on ``reference`` and runs :func:`detect_drift`. The schema is
    inferred from ``reference``'s dtypes when not given.
    """
    specs = tuple(schema) if schema is not None else infer_schema(reference)
    return detect_drift(ReferenceProfile.fit(reference, specs, bins=bins), current, config)
