"""The MLflow model registry adapter and the validation gate: versions registered or adopted with
their lineage, aliases (@champion, @challenger, @previous) as the only promotion mechanism, and a
candidate judged against the champion on held-out labelled records."""

from triggers.registry.gate import (
    GateResult,
    GateRule,
    RuleKind,
    RuleOutcome,
    check_rules,
    default_rules,
    judge,
)
from triggers.registry.metrics import Metric, Predictions, metrics_for, task_metrics

__all__ = [
    "GateResult",
    "GateRule",
    "Metric",
    "Predictions",
    "RuleKind",
    "RuleOutcome",
    "check_rules",
    "default_rules",
    "judge",
    "metrics_for",
    "task_metrics",
]
