"""Drift detection as a pure library: frames in, frozen typed results out.

Fit a :class:`ReferenceProfile` once when a reference is uploaded and store ``profile.to_json()``;
for each window call :func:`detect_drift` with the loaded profile. Prediction drift is the same
run over the output columns built by :mod:`detectors.prediction`; SHAP attribution drift lives in
:mod:`detectors.attribution` and Evidently's HTML report in :mod:`detectors.evidently_report`.
"""

from detectors.config import DriftConfig
from detectors.correction import Correction
from detectors.drift import compare_samples, detect_drift
from detectors.profile import ReferenceProfile
from detectors.quality import QualityThresholds
from detectors.registry import DEFAULT_TESTS, TESTS, make_test
from detectors.results import DatasetDriftReport, DriftResult, FeatureDrift, QualityResult
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
    "QualityResult",
    "QualityThresholds",
    "ReferenceProfile",
    "compare_samples",
    "detect_drift",
    "infer_schema",
    "make_test",
]
