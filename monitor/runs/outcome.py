"""What a monitor run computed, before it is persisted."""

from dataclasses import dataclass

from detectors import DatasetDriftReport, MultivariateDriftResult
from detectors.attribution import AttributionDriftResult
from monitor.runs.quality import WindowQuality


@dataclass(frozen=True, slots=True)
class RunOutcome:
    model_version: str | None  # the version judged
    reference_id: int  # the reference it was judged against
    rows: int
    load_seconds: float
    compute_seconds: float
    features: DatasetDriftReport | None  # None: not enough data
    outputs: DatasetDriftReport | None
    report_html: str | None = None
    attribution: AttributionDriftResult | None = None
    quality: WindowQuality | None = None
    multivariate: MultivariateDriftResult | None = None
