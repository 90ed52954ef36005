"""Canary analysis of one rollout step: what the stable and canary variants served, in; one
frozen result per check (error rate, p99 latency, prediction PSI, accuracy), out.

>>> quiet = VariantTraffic(requests=200, errors=1, latencies_ms=np.full(200, 12.0),
...                        predictions=[0.2, 0.7] * 100)
>>> analysis = analyse_step(quiet, quiet, Thresholds(), min_requests=50,
...                         task="binary_classification")
>>> [check.outcome.value for check in analysis.checks]  # error rate, p99, PSI, accuracy
['passed', 'passed', 'passed', 'inconclusive']
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from detectors.columns import FloatArray
from detectors.prediction import Task, output_columns
from detectors.profile import ReferenceProfile
from detectors.stattests.psi import PopulationStabilityIndex
from detectors.validation import check_int
from detectors.window import summarize
from triggers.canary.thresholds import CheckName, Outcome, Thresholds

# A prediction PSI at the threshold fails only with a chi-squared p-value below this.
PSI_P_VALUE = 0.01


@dataclass(frozen=True, slots=True, eq=False)
class VariantTraffic:
    """What one variant served in a step: all requests and the failed ones (status >= 400),
    the latencies and predictions of a sample of them, and how many of the sampled requests
    have a label and how many of those it predicted right."""

    requests: int
    errors: int
    latencies_ms: FloatArray
    predictions: Sequence[Any]
    labelled: int = 0
    correct: int = 0


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: CheckName
    outcome: Outcome
    stable_value: float | None
    canary_value: float | None
    threshold: float
    n_stable: int
    n_canary: int
    detail: str


@dataclass(frozen=True, slots=True)
class StepAnalysis:
    """The checks of a step; `starved` says which variant served fewer than `min_requests`
    (the step is then inconclusive as a whole), None when both served enough."""

    checks: tuple[CheckResult, ...]
    starved: str | None

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        return tuple(check for check in self.checks if check.outcome is Outcome.FAILED)


def analyse_step(
    stable: VariantTraffic,
    canary: VariantTraffic,
    thresholds: Thresholds,
    *,
    min_requests: int,
    task: Task | str,
    class_labels: Sequence[Any] = (),
) -> StepAnalysis:
    """Every check of the canary against the stable variant."""
    check_int("min_requests", min_requests, 1, 1_000_000_000)
    starved = [
        f"{name} served {traffic.requests} requests"
        for name, traffic in (("stable", stable), ("canary", canary))
        if traffic.requests < min_requests
    ]
    checks = (
        error_rate(stable, canary, thresholds.max_error_rate_increase, min_requests),
        latency_p99(stable, canary, thresholds.max_p99_latency_ratio, min_requests),
        prediction_psi(
            stable, canary, thresholds.max_prediction_psi, min_requests, Task(task), class_labels
        ),
        accuracy(stable, canary, thresholds.max_accuracy_drop, thresholds.min_labels, Task(task)),
    )
    reason = f"{' and '.join(starved)}; min_requests is {min_requests}" if starved else None
    return StepAnalysis(checks, reason)


def _inconclusive(
    name: CheckName, threshold: float, n_stable: int, n_canary: int, detail: str
) -> CheckResult:
    return CheckResult(
        name, Outcome.INCONCLUSIVE, None, None, threshold, n_stable, n_canary, detail
    )


def _too_few(
    name: CheckName, threshold: float, n_stable: int, n_canary: int, needed: int, what: str
) -> CheckResult | None:
    if min(n_stable, n_canary) >= needed:
        return None
    return _inconclusive(
        name,
        threshold,
        n_stable,
        n_canary,
        f"{n_stable} stable and {n_canary} canary {what}; {needed} of each are needed",
    )


def _verdict(passed: bool) -> Outcome:
    return Outcome.PASSED if passed else Outcome.FAILED


def error_rate(
    stable: VariantTraffic, canary: VariantTraffic, max_increase: float, min_requests: int
) -> CheckResult:
    """Failed requests (status >= 400) per request; the canary may exceed the stable's share
    by `max_increase` at most."""
    name, n_stable, n_canary = CheckName.ERROR_RATE, stable.requests, canary.requests
    if short := _too_few(name, max_increase, n_stable, n_canary, min_requests, "requests"):
        return short
    stable_rate, canary_rate = stable.errors / n_stable, canary.errors / n_canary
    increase = canary_rate - stable_rate
    return CheckResult(
        name,
        _verdict(increase <= max_increase),
        stable_rate,
        canary_rate,
        max_increase,
        n_stable,
        n_canary,
        f"canary {canary_rate:.2%} errors against stable {stable_rate:.2%} "
        f"({increase * 100:+.2f} points; at most {max_increase * 100:+.2f})",
    )


def latency_p99(
    stable: VariantTraffic, canary: VariantTraffic, max_ratio: float, min_requests: int
) -> CheckResult:
    """The canary's 99th latency percentile may be at most `max_ratio` times the stable's."""
    name = CheckName.LATENCY_P99
    stable_ms = stable.latencies_ms[np.isfinite(stable.latencies_ms)]
    canary_ms = canary.latencies_ms[np.isfinite(canary.latencies_ms)]
    if short := _too_few(
        name, max_ratio, stable_ms.size, canary_ms.size, min_requests, "latencies"
    ):
        return short
    stable_p99 = float(np.percentile(stable_ms, 99))
    canary_p99 = float(np.percentile(canary_ms, 99))
    # A stable p99 of 0 (a clock too coarse to see it) compares only with another 0.
    ratio = canary_p99 / stable_p99 if stable_p99 > 0 else (1.0 if canary_p99 <= 0 else math.inf)
    return CheckResult(
        name,
        _verdict(ratio <= max_ratio),
        stable_p99,
        canary_p99,
        max_ratio,
        stable_ms.size,
        canary_ms.size,
        f"p99 canary {canary_p99:.1f} ms against stable {stable_p99:.1f} ms "
        f"(x{ratio:.2f}; at most x{max_ratio:.2f})",
    )


def prediction_psi(
    stable: VariantTraffic,
    canary: VariantTraffic,
    max_psi: float,
    min_requests: int,
    task: Task,
    class_labels: Sequence[Any],
) -> CheckResult:
    """PSI of the canary's outputs on bins of the stable's (class shares and, where scores are
    logged, each score's distribution); any output column that drifted fails the check."""
    name = CheckName.PREDICTION_PSI
    stable_values = [value for value in stable.predictions if value is not None]
    canary_values = [value for value in canary.predictions if value is not None]
    n_stable, n_canary = len(stable_values), len(canary_values)
    if short := _too_few(name, max_psi, n_stable, n_canary, min_requests, "predictions"):
        return short
    try:
        reference, specs = output_columns(stable_values, task, class_labels=class_labels)
        current, _ = output_columns(canary_values, task, class_labels=class_labels)
    except (ValueError, TypeError) as error:
        return _inconclusive(
            name, max_psi, n_stable, n_canary, f"the predictions cannot be compared: {error}"
        )
    shared = [spec for spec in specs if spec.name in current.columns]
    profile = ReferenceProfile.fit(reference, shared)
    # The project's decision rule: a PSI at the threshold fails only where the chi-squared
    # test on the same bins rules out chance. Small steps have noisy PSIs (about
    # (bins - 1) * (1/n_stable + 1/n_canary) from sampling alone), and must not fail on noise.
    test = PopulationStabilityIndex(threshold=max_psi, p_value_threshold=PSI_P_VALUE)
    results = [
        test.test(feature, summarize(feature, current[feature.name]))
        for feature in profile.features
    ]
    scored = [result for result in results if not math.isnan(result.statistic)]
    if not scored:
        return _inconclusive(
            name, max_psi, n_stable, n_canary, "no output column has usable values in both variants"
        )
    drifted = [result for result in scored if result.drifted]
    worst = max(drifted or scored, key=lambda result: result.statistic)
    p_value = "n/a" if worst.p_value is None else f"{worst.p_value:.2g}"
    return CheckResult(
        name,
        _verdict(not drifted),
        None,
        worst.statistic,
        max_psi,
        n_stable,
        n_canary,
        f"PSI {worst.statistic:.3f} (p = {p_value}) on {worst.feature!r}, the canary's outputs "
        f"on the stable's bins; fails from {max_psi:g} with p < {PSI_P_VALUE:g}",
    )


def accuracy(
    stable: VariantTraffic,
    canary: VariantTraffic,
    max_drop: float,
    min_labels: int,
    task: Task,
) -> CheckResult:
    """Share of labelled requests predicted right; the canary may trail by `max_drop`."""
    name, n_stable, n_canary = CheckName.ACCURACY, stable.labelled, canary.labelled
    if task is Task.REGRESSION:
        return _inconclusive(
            name, max_drop, n_stable, n_canary, "accuracy is judged for classifiers only"
        )
    if short := _too_few(name, max_drop, n_stable, n_canary, min_labels, "labelled requests"):
        return short
    stable_accuracy, canary_accuracy = stable.correct / n_stable, canary.correct / n_canary
    drop = stable_accuracy - canary_accuracy
    return CheckResult(
        name,
        _verdict(drop <= max_drop),
        stable_accuracy,
        canary_accuracy,
        max_drop,
        n_stable,
        n_canary,
        f"accuracy canary {canary_accuracy:.3f} against stable {stable_accuracy:.3f} "
        f"(drop {drop:+.3f}; at most {max_drop:.3f})",
    )
