"""The validation gate's rules and verdict: a candidate model against the current @champion on
the same held-out labelled records. Pure: metrics in, a frozen result out."""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from triggers.registry.metrics import BINARY, REGRESSION, Metric, metrics_for


class RuleKind(StrEnum):
    NO_WORSE_THAN = "no_worse_than"  # the candidate may lose at most `threshold`
    AT_LEAST_BETTER = "at_least_better"  # the candidate must gain at least `threshold`


@dataclass(frozen=True, slots=True)
class GateRule:
    """A bound on the candidate's change in `metric` over the champion. The change is counted
    as a gain whichever way the metric improves (log loss, MAE and RMSE improve downwards);
    `relative` divides it by the champion's value.

    >>> GateRule(Metric.ROC_AUC, RuleKind.NO_WORSE_THAN, 0.01).allows(-0.005)
    True
    >>> GateRule(Metric.ACCURACY, RuleKind.AT_LEAST_BETTER, 0.02).allows(0.01)
    False
    """

    metric: Metric
    kind: RuleKind
    threshold: float
    relative: bool = False

    def __post_init__(self) -> None:
        if not math.isfinite(self.threshold) or self.threshold < 0:
            raise ValueError(
                f"threshold of the {self.kind} rule on {self.metric} must be a finite number "
                f">= 0, got {self.threshold}"
            )

    def allows(self, gain: float) -> bool:
        if self.kind is RuleKind.NO_WORSE_THAN:
            return gain >= -self.threshold
        return gain >= self.threshold

    def describe(self) -> str:
        unit = f"{self.threshold:.1%}" if self.relative else f"{self.threshold:g}"
        if self.kind is RuleKind.NO_WORSE_THAN:
            return f"{self.metric} no worse than @champion by more than {unit}"
        return f"{self.metric} better than @champion by at least {unit}"


def default_rules(task: str) -> tuple[GateRule, ...]:
    metrics_for(task)
    if task == REGRESSION:
        return (GateRule(Metric.RMSE, RuleKind.NO_WORSE_THAN, 0.02, relative=True),)
    second = Metric.ROC_AUC if task == BINARY else Metric.F1
    return (
        GateRule(Metric.ACCURACY, RuleKind.NO_WORSE_THAN, 0.01),
        GateRule(second, RuleKind.NO_WORSE_THAN, 0.01),
    )


def check_rules(task: str, rules: tuple[GateRule, ...]) -> None:
    allowed = metrics_for(task)
    for index, rule in enumerate(rules):
        if rule.metric not in allowed:
            raise ValueError(
                f"rules[{index}].metric: {rule.metric} does not apply to {task}; use one of "
                f"{', '.join(allowed)}"
            )


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    rule: GateRule
    candidate: float | None
    champion: float | None
    gain: float | None  # positive: the candidate is better
    passed: bool
    reason: str


@dataclass(frozen=True, slots=True)
class GateResult:
    """The verdict and everything it was reached from."""

    passed: bool
    reason: str
    candidate_version: str
    champion_version: str | None
    holdout_rows: int
    candidate_metrics: Mapping[str, float | None] = field(default_factory=dict)
    champion_metrics: Mapping[str, float | None] | None = None
    rules: tuple[RuleOutcome, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "verdict": "passed" if self.passed else "failed",
            "reason": self.reason,
            "candidate_version": self.candidate_version,
            "champion_version": self.champion_version,
            "holdout_rows": self.holdout_rows,
            "candidate_metrics": dict(self.candidate_metrics),
            "champion_metrics": None
            if self.champion_metrics is None
            else dict(self.champion_metrics),
            "rules": [
                {
                    "metric": o.rule.metric.value,
                    "rule": o.rule.kind.value,
                    "threshold": o.rule.threshold,
                    "relative": o.rule.relative,
                    "candidate": o.candidate,
                    "champion": o.champion,
                    "gain": o.gain,
                    "passed": o.passed,
                    "reason": o.reason,
                }
                for o in self.rules
            ],
        }


def _gain(metric: Metric, candidate: float, champion: float, relative: bool) -> float | None:
    gain = candidate - champion if metric.higher_is_better else champion - candidate
    if not relative:
        return gain
    return gain / abs(champion) if champion else None


def _judge_rule(
    rule: GateRule, candidate: Mapping[str, float | None], champion: Mapping[str, float | None]
) -> RuleOutcome:
    mine, theirs = candidate.get(rule.metric), champion.get(rule.metric)
    gain = None
    if mine is not None and theirs is not None:
        gain = _gain(rule.metric, mine, theirs, rule.relative)
    if mine is None or theirs is None:
        who = "candidate" if mine is None else "champion"
        reason = (
            f"{rule.metric} could not be computed for the {who} (it needs class probabilities "
            "and both classes in the held-out set); choose another metric"
        )
    elif gain is None:
        reason = (
            f"{rule.metric} of @champion is 0, so a relative change is undefined; "
            "use an absolute threshold"
        )
    else:
        verdict = "meets" if rule.allows(gain) else "breaks"
        reason = f"{verdict} '{rule.describe()}': {mine:.4g} vs {theirs:.4g} (gain {gain:+.4g})"
    passed = gain is not None and rule.allows(gain)
    return RuleOutcome(rule, mine, theirs, gain, passed, reason)


def judge(
    rules: tuple[GateRule, ...],
    *,
    candidate_version: str,
    candidate_metrics: Mapping[str, float | None],
    champion_version: str | None,
    champion_metrics: Mapping[str, float | None] | None,
    holdout_rows: int,
    min_holdout_rows: int,
) -> GateResult:
    """Pass when every rule holds; with no @champion yet, the candidate passes on its own."""

    def verdict(passed: bool, reason: str, outcomes: tuple[RuleOutcome, ...] = ()) -> GateResult:
        return GateResult(
            passed=passed,
            reason=reason,
            candidate_version=candidate_version,
            champion_version=champion_version,
            holdout_rows=holdout_rows,
            candidate_metrics=dict(candidate_metrics),
            champion_metrics=None if champion_metrics is None else dict(champion_metrics),
            rules=outcomes,
        )

    if holdout_rows < min_holdout_rows:
        return verdict(
            False,
            f"only {holdout_rows} labelled records were held out; the gate needs "
            f"{min_holdout_rows} (wait for more labels, widen the training window, or lower "
            "gate.min_holdout_rows)",
        )
    if champion_metrics is None:
        return verdict(True, "no @champion to compare with: the first candidate passes")
    outcomes = tuple(_judge_rule(rule, candidate_metrics, champion_metrics) for rule in rules)
    failed = [o.reason for o in outcomes if not o.passed]
    reason = "; ".join(failed) if failed else f"all {len(outcomes)} rules hold"
    return verdict(not failed, reason, outcomes)
