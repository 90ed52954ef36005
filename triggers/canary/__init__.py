"""Canary analysis: pure checks of a candidate variant against the stable one, per rollout step."""

from triggers.canary.analysis import (
    CheckName,
    CheckResult,
    Outcome,
    StepAnalysis,
    Thresholds,
    VariantTraffic,
    analyse_step,
)
from triggers.canary.labels import count_correct

__all__ = [
    "CheckName",
    "CheckResult",
    "Outcome",
    "StepAnalysis",
    "Thresholds",
    "VariantTraffic",
    "analyse_step",
    "count_correct",
]
