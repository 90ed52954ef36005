"""How one quality figure is judged against the reference: the rule, the reference's own
spread, the alert bound and the degradation verdict."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from detectors.metrics import Metric, MetricValue, as_metric
from detectors.results import PerformanceReport, PerformanceResult
from detectors.validation import check_float, check_int

REALIZED = "realized"
ESTIMATED = "estimated"


@dataclass(frozen=True, slots=True)
class PerformanceRule:
    """When one metric counts as degraded, relative to the reference.

    The margin is the largest of the configured parts: ``max_drop`` (absolute), ``relative_drop``
    (share of the reference value) and ``std_factor`` times the metric's standard deviation
    across reference chunks. A drop in quality is a fall for metrics where higher is better and
    a rise for losses (log loss, MAE, RMSE, MAPE). ``min_labels`` is the fewest rows a verdict
    needs (labelled rows for realized figures, scored rows for estimates); ``confidence`` sets
    the interval.

    >>> rule = PerformanceRule("roc_auc", max_drop=0.03)
    >>> PerformanceRule.from_dict(rule.to_dict()) == rule
    True
    >>> PerformanceRule("roc_auc", max_drop=None, std_factor=None)
    Traceback (most recent call last):
    ...
    ValueError: rule for 'roc_auc' needs max_drop, relative_drop or std_factor
    """

    metric: Metric
    max_drop: float | None = None
    relative_drop: float | None = None
    std_factor: float | None = 3.0
    min_labels: int = 100
    confidence: float = 0.95

    def __post_init__(self) -> None:
        object.__setattr__(self, "metric", as_metric(self.metric))
        if self.max_drop is not None:
            check_float("max_drop", self.max_drop, 0.0, math.inf, open_low=False)
        if self.relative_drop is not None:
            check_float("relative_drop", self.relative_drop, 0.0, 1.0, open_low=False)
        if self.std_factor is not None:
            check_float("std_factor", self.std_factor, 0.0, 100.0, open_low=False)
        if self.max_drop is None and self.relative_drop is None and self.std_factor is None:
            raise ValueError(
                f"rule for {self.metric.value!r} needs max_drop, relative_drop or std_factor"
            )
        check_int("min_labels", self.min_labels, 1, 1_000_000_000)
        check_float("confidence", self.confidence, 0.5, 0.999, open_low=False)

    def margin(self, reference: MetricBaseline, n_rows: int | None = None) -> float:
        """The distance of the alert bound from the reference value; the ``std_factor`` part
        is sized to a window of ``n_rows`` rows (:meth:`MetricBaseline.window_std`), or the
        chunk standard deviation when None."""
        parts = [0.0]
        if self.max_drop is not None:
            parts.append(self.max_drop)
        if self.relative_drop is not None:
            parts.append(self.relative_drop * abs(reference.value))
        if self.std_factor is not None:
            spread = reference.chunk_std if n_rows is None else reference.window_std(n_rows)
            parts.append(self.std_factor * spread)
        return max(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric.value,
            "max_drop": self.max_drop,
            "relative_drop": self.relative_drop,
            "std_factor": self.std_factor,
            "min_labels": self.min_labels,
            "confidence": self.confidence,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PerformanceRule:
        return cls(**data)


@dataclass(frozen=True, slots=True)
class MetricBaseline:
    """A metric on the whole reference and on each of its consecutive chunks (chunks where the
    metric is undefined, e.g. holding one class only, are left out).

    ``variance`` is the sampling variance of ``value`` (delta method), ``chunk_rows`` the rows per
    chunk and ``chunk_variance`` the mean sampling variance of a chunk's value; all three are 0
    in baselines stored before they existed, which then judge by :attr:`chunk_std` alone.
    """

    metric: Metric
    value: float
    chunk_values: tuple[float, ...]
    variance: float = 0.0
    chunk_rows: int = 0
    chunk_variance: float = 0.0

    @property
    def chunk_std(self) -> float:
        """Sample standard deviation across chunks (0 with fewer than two chunks)."""
        if len(self.chunk_values) < 2:
            return 0.0
        return float(np.std(self.chunk_values, ddof=1))

    def window_std(self, n_rows: int) -> float:
        """Standard deviation of the metric on a window of ``n_rows`` rows like the reference:
        the chunks' sampling variance scaled from ``chunk_rows`` to ``n_rows``, plus whatever
        variation between chunks exceeds their sampling variance (a reference drifting over
        time). The chunk standard deviation when the chunk size is unknown."""
        if not self.chunk_rows or n_rows <= 0:
            return self.chunk_std
        between = max(0.0, self.chunk_std**2 - self.chunk_variance)
        return math.sqrt(between + self.chunk_variance * self.chunk_rows / n_rows)

    def chunk_quantile(self, q: float) -> float:
        return float(np.quantile(self.chunk_values, q)) if self.chunk_values else self.value

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric.value,
            "value": self.value,
            "chunk_values": list(self.chunk_values),
            "chunk_std": self.chunk_std,
            "chunk_p05": self.chunk_quantile(0.05),
            "chunk_p95": self.chunk_quantile(0.95),
            "variance": self.variance,
            "chunk_rows": self.chunk_rows,
            "chunk_variance": self.chunk_variance,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MetricBaseline:
        return cls(
            Metric(data["metric"]),
            data["value"],
            tuple(data["chunk_values"]),
            data.get("variance", 0.0),
            data.get("chunk_rows", 0),
            data.get("chunk_variance", 0.0),
        )


def judge(
    rule: PerformanceRule,
    reference: MetricBaseline,
    value: MetricValue,
    standard_error: float,
    *,
    method: str,
    n_used: int,
    n_window: int,
    notes: Sequence[str] = (),
) -> PerformanceResult:
    """The result for one metric: interval, bounds and the degradation verdict (see
    :class:`detectors.results.PerformanceResult`)."""
    metric = rule.metric
    margin = rule.margin(reference, n_used)
    higher = metric.higher_is_better
    lower_bound = reference.value - margin if higher else None
    upper_bound = None if higher else reference.value + margin
    messages = [*notes]
    if value.message:
        messages.insert(0, value.message)
    z = float(stats.norm.ppf(0.5 + rule.confidence / 2))
    ci_low = max(value.value - z * standard_error, 0.0)
    ci_high = min(value.value + z * standard_error, metric.upper_limit)
    # The verdict's interval is the difference's: the reference value has its own sampling error.
    reach = z * math.sqrt(standard_error**2 + reference.variance)
    beyond = (
        value.value < reference.value - margin and value.value + reach < reference.value
        if higher
        else value.value > reference.value + margin and value.value - reach > reference.value
    )
    enough = n_used >= rule.min_labels
    if not math.isnan(value.value) and not enough:
        what = "labelled" if method == REALIZED else "scored"
        messages.append(
            f"only {n_used} {what} rows; at least {rule.min_labels} needed for a verdict"
        )
    n_labelled = n_used if method == REALIZED else 0
    return PerformanceResult(
        metric=metric.value,
        method=method,
        value=value.value,
        ci_low=ci_low if not math.isnan(value.value) else math.nan,
        ci_high=ci_high if not math.isnan(value.value) else math.nan,
        standard_error=standard_error if not math.isnan(value.value) else math.nan,
        confidence=rule.confidence,
        n_labelled=n_labelled,
        n_window=n_window,
        label_completeness=n_labelled / n_window if n_window else 0.0,
        reference=reference.value,
        lower_bound=lower_bound,
        upper_bound=upper_bound,
        higher_is_better=higher,
        degraded=bool(enough and beyond),
        message="; ".join(messages) or None,
    )


def report(
    method: str, results: Sequence[PerformanceResult], n_labelled: int, n_window: int
) -> PerformanceReport:
    labelled = n_labelled if method == REALIZED else 0
    return PerformanceReport(
        method=method,
        results=tuple(results),
        n_labelled=labelled,
        n_window=n_window,
        label_completeness=labelled / n_window if n_window else 0.0,
        degraded=any(r.degraded for r in results),
    )
