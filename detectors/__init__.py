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
