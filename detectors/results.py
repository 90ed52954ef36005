"""Frozen result types returned by every test, check and drift run, and the decision rule."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from detectors.schema import FeatureKind


def is_drift(
    effect_size: float, p_value: float | None, threshold: float, p_value_threshold: float | None
) -> bool:
    """The decision rule: drifted when the effect size reaches ``threshold`` *and*, for tests
    with a p-value, the (corrected) p-value is below ``p_value_threshold``.

    Requiring both keeps huge windows from flagging negligible differences (their p-values are
    tiny) and small windows from flagging noise (their effect sizes are noisy).

    >>> is_drift(0.2, 1e-9, threshold=0.1, p_value_threshold=0.01)
    True
    >>> is_drift(0.001, 1e-9, threshold=0.1, p_value_threshold=0.01)
    False
    """
    if math.isnan(effect_size) or effect_size < threshold:
        return False
    if p_value_threshold is None:
        return True
    return p_value is not None and p_value < p_value_threshold


@dataclass(frozen=True, slots=True)
class DriftResult:
    """The outcome of one statistical test on one feature.

    ``statistic`` is the test's own statistic (e.g. KS D, Pearson chi-squared); ``effect_size``
    is what ``threshold`` applies to (the statistic itself, except chi-squared's Cohen's w).
    ``new_categories`` lists up to ten categories unseen in the reference, most frequent first.
    ``method`` says how it was computed: ``exact`` (full samples, as scipy), ``grid`` (reference
    quantile grid), ``bins`` (PSI bins or categories) or ``contingency``. ``adjusted_p_value`` is
    the p-value after multiple-testing correction (equal to ``p_value`` for a single test).
    Undefined statistics (empty window) are NaN with ``drifted=False`` and a ``message``.
    """

    feature: str
    test: str
    method: str
    statistic: float
    effect_size: float
    p_value: float | None
    adjusted_p_value: float | None
    threshold: float
    p_value_threshold: float | None
    drifted: bool
    n_ref: int
    n_cur: int
    new_categories: tuple[str, ...] = ()
    message: str | None = None

    def with_adjusted_p_value(self, adjusted_p_value: float | None) -> DriftResult:
        """This result after correction, with ``drifted`` decided again on the new p-value."""
        return dataclasses.replace(
            self,
            adjusted_p_value=adjusted_p_value,
            drifted=is_drift(
                self.effect_size, adjusted_p_value, self.threshold, self.p_value_threshold
            ),
        )


@dataclass(frozen=True, slots=True)
class QualityResult:
    """One data-quality check on one feature: ``failed`` when ``share`` exceeds ``threshold``.

    ``check`` is one of ``missing``, ``out_of_range``, ``new_category``, ``type_error``; ``share``
    is ``count / n_rows`` (0 for an empty window). ``examples`` holds up to five offending values
    as escaped text (``repr``, long ones cut), most frequent first (new categories only).
    """

    feature: str
    check: str
    count: int
    n_rows: int
    share: float
    threshold: float
    failed: bool
    message: str | None = None
    examples: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FeatureDrift:
    """All results for one feature; ``drifted`` is the verdict of the first (primary) test."""

    feature: str
    kind: FeatureKind
    drifted: bool
    results: tuple[DriftResult, ...]
    quality: tuple[QualityResult, ...]

    @property
    def primary(self) -> DriftResult:
        return self.results[0]

    def result(self, test: str) -> DriftResult:
        for result in self.results:
            if result.test == test:
                return result
        raise KeyError(f"test {test!r} was not run on feature {self.feature!r}")


@dataclass(frozen=True, slots=True)
class DatasetDriftReport:
    """A drift run over a model's features.

    ``drift_share`` is the share of features whose primary test drifted; the data set is
    ``drifted`` when that share reaches ``drift_share_threshold``.
    """

    features: tuple[FeatureDrift, ...]
    correction: str
    drift_share: float
    drift_share_threshold: float
    drifted: bool

    @property
    def drifted_features(self) -> tuple[str, ...]:
        return tuple(f.feature for f in self.features if f.drifted)

    @property
    def quality_failed(self) -> bool:
        return any(check.failed for f in self.features for check in f.quality)

    def feature(self, name: str) -> FeatureDrift:
        for feature in self.features:
            if feature.feature == name:
                return feature
        raise KeyError(f"no feature named {name!r} in the report")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-safe data (NaN becomes None), e.g. for storing a run's outcome."""
        return {
            **_json_safe(dataclasses.asdict(self)),
            "drifted_features": list(self.drifted_features),
            "quality_failed": self.quality_failed,
        }


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True, slots=True)
class PerformanceResult:
    """One model-quality metric on one window, realized from labels or estimated without them.

    ``method`` is ``realized`` (computed on the labelled rows), ``estimated`` (expected value
    from calibrated confidence, no labels used) or ``estimated_with_labels`` (that estimate
    corrected by the labels already arrived, prediction-powered). ``ci_low``/``ci_high`` is the
    normal interval at ``confidence`` around ``value`` with ``standard_error``, clipped to the
    metric's range.
    ``n_labelled`` counts the labelled rows used (0 for estimates), ``n_window`` the window's
    rows, ``label_completeness`` is their ratio. ``reference`` is the metric on the reference
    data; ``lower_bound`` (metrics where higher is better) or ``upper_bound`` (losses) is where
    the rule starts to alert, the other bound None. ``degraded`` when the value is beyond the
    bound *and* the interval excludes the reference *and* at least the rule's ``min_labels``
    rows were used. Undefined values are NaN with a ``message``.
    """

    metric: str
    method: str
    value: float
    ci_low: float
    ci_high: float
    standard_error: float
    confidence: float
    n_labelled: int
    n_window: int
    label_completeness: float
    reference: float
    lower_bound: float | None
    upper_bound: float | None
    higher_is_better: bool
    degraded: bool
    message: str | None = None


@dataclass(frozen=True, slots=True)
class PerformanceReport:
    """Every configured metric on one window by one method; ``degraded`` if any metric is."""

    method: str
    results: tuple[PerformanceResult, ...]
    n_labelled: int
    n_window: int
    label_completeness: float
    degraded: bool

    @property
    def degraded_metrics(self) -> tuple[str, ...]:
        return tuple(r.metric for r in self.results if r.degraded)

    def result(self, metric: str) -> PerformanceResult:
        for result in self.results:
            if result.metric == metric:
                return result
        raise KeyError(f"metric {metric!r} was not computed in this report")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-safe data (NaN and infinities become None), e.g. for storing a run."""
        return {
            **_json_safe(dataclasses.asdict(self)),
            "degraded_metrics": list(self.degraded_metrics),
        }


@dataclass(frozen=True, slots=True)
class MultivariateDriftResult:
    """Drift of all features at once: the window's mean PCA reconstruction error (``statistic``)
    against ``threshold``, the reference mean plus k standard deviations for a window of this
    size. ``drifted`` when the statistic exceeds the threshold *and* the floor, the reference mean
    raised by the minimum relative rise (so a huge window does not flag a negligible change);
    undefined (empty window) is NaN with ``drifted=False`` and a ``message``.
    ``missing_share`` is the window's share of missing values over all features (imputed with the
    reference means, which pulls rows toward the reference and can hide drift);
    ``missing_spike`` when it exceeds the reference's ``reference_missing_share`` by more than
    0.05, reported whether or not the error rose."""

    method: str
    statistic: float
    reference: float
    threshold: float
    drifted: bool
    n_ref: int
    n_cur: int
    components: int
    message: str | None = None
    floor: float = math.nan
    missing_share: float = 0.0
    reference_missing_share: float = 0.0
    missing_spike: bool = False

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = _json_safe(dataclasses.asdict(self))
        return data
