"""Drift detection as a pure library: frames in, frozen typed results out.

Fit a :class:`ReferenceProfile` once when a reference is uploaded and store ``profile.to_json()``;
for each window call :func:`detect_drift` with the loaded profile. Prediction drift is the same
run over the output columns built by :mod:`detectors.prediction`; SHAP attribution drift lives in
:mod:`detectors.attribution` and Evidently's HTML report in :mod:`detectors.evidently_report`.

Model quality: fit a :class:`PerformanceBaseline` (and, for classifiers logging scores, a
:class:`PerformanceEstimator`) on the labelled reference; per window call
:func:`estimate_performance` before labels arrive and :func:`realized_performance` as they do.
Multivariate drift: fit a :class:`MultivariateProfile` once, call :func:`multivariate_drift`.

Windows too large for memory: :func:`summarize_frame` (and :class:`MultivariateWindow`) each
batch of rows, :func:`merge_summaries` the parts, then :func:`judge_windows` (and
:func:`judge_multivariate`) give the same results as one pass over the whole window.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from detectors.config import DriftConfig
    from detectors.correction import Correction
    from detectors.drift import (
        WindowSummary,
        compare_samples,
        detect_drift,
        judge_windows,
        merge_summaries,
        summarize_frame,
    )
    from detectors.estimation import PerformanceEstimator, estimate_performance
    from detectors.metrics import Metric
    from detectors.multivariate import MultivariateProfile
    from detectors.multivariate_window import (
        MultivariateWindow,
        judge_multivariate,
        multivariate_drift,
    )
    from detectors.performance import PerformanceBaseline, realized_performance
    from detectors.prediction import Task
    from detectors.profile import ReferenceProfile
    from detectors.quality import QualityThresholds
    from detectors.registry import DEFAULT_TESTS, TESTS, make_test
    from detectors.results import (
        DatasetDriftReport,
        DriftResult,
        FeatureDrift,
        MultivariateDriftResult,
        PerformanceReport,
        PerformanceResult,
        QualityResult,
    )
    from detectors.rules import PerformanceRule
    from detectors.schema import FeatureKind, FeatureSpec, infer_schema

# Each public name and the submodule defining it. The package imports a submodule (and with it
# pandas, scipy, ...) only when one of its names is first asked for, so that a program touching
# one small type, such as the control plane's command line, does not pay for the whole library.
_SUBMODULES = {
    "DEFAULT_TESTS": "registry",
    "TESTS": "registry",
    "Correction": "correction",
    "DatasetDriftReport": "results",
    "DriftConfig": "config",
    "DriftResult": "results",
    "FeatureDrift": "results",
    "FeatureKind": "schema",
    "FeatureSpec": "schema",
    "Metric": "metrics",
    "MultivariateDriftResult": "results",
    "MultivariateProfile": "multivariate",
    "MultivariateWindow": "multivariate_window",
    "PerformanceBaseline": "performance",
    "PerformanceEstimator": "estimation",
    "PerformanceReport": "results",
    "PerformanceResult": "results",
    "PerformanceRule": "rules",
    "QualityResult": "results",
    "QualityThresholds": "quality",
    "ReferenceProfile": "profile",
    "Task": "prediction",
    "WindowSummary": "drift",
    "compare_samples": "drift",
    "detect_drift": "drift",
    "estimate_performance": "estimation",
    "infer_schema": "schema",
    "judge_multivariate": "multivariate_window",
    "judge_windows": "drift",
    "make_test": "registry",
    "merge_summaries": "drift",
    "multivariate_drift": "multivariate_window",
    "realized_performance": "performance",
    "summarize_frame": "drift",
}

__all__ = [
    "DEFAULT_TESTS",
    "TESTS",
    "Correction",
    "DatasetDriftReport",
    "DriftConfig",
    "DriftResult",
    "FeatureDrift",
    "FeatureKind",
    "FeatureSpec",
    "Metric",
    "MultivariateDriftResult",
    "MultivariateProfile",
    "MultivariateWindow",
    "PerformanceBaseline",
    "PerformanceEstimator",
    "PerformanceReport",
    "PerformanceResult",
    "PerformanceRule",
    "QualityResult",
    "QualityThresholds",
    "ReferenceProfile",
    "Task",
    "WindowSummary",
    "compare_samples",
    "detect_drift",
    "estimate_performance",
    "infer_schema",
    "judge_multivariate",
    "judge_windows",
    "make_test",
    "merge_summaries",
    "multivariate_drift",
    "realized_performance",
    "summarize_frame",
]


def __getattr__(name: str) -> Any:
    """Imports the submodule defining ``name`` on first use (PEP 562) and keeps the value."""
    try:
        submodule = _SUBMODULES[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(import_module(f"{__name__}.{submodule}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
