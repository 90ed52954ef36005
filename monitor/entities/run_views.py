"""API shapes for runs, results, drift state and statistic time series."""

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from monitor.entities.monitor import POSITIVE_DURATION_SCHEMA, parse_duration
from monitor.entities.quality import MultivariatePoint


class _FromRow(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class RunPublic(_FromRow):
    id: int
    monitor_id: int
    status: str
    trigger: str
    window_start: datetime
    window_end: datetime
    model_version: str | None = Field(description="The version judged; null: unversioned")
    reference_id: int | None = Field(description="The reference it was judged against")
    missed_ticks: int
    rows: int
    tested_features: int
    drifted_features: int
    dataset_drifted: bool
    quality_failed: bool
    error: str | None
    load_seconds: float | None
    compute_seconds: float | None
    started_at: datetime
    finished_at: datetime | None


class RunsPublic(BaseModel):
    data: list[RunPublic]
    count: int


class FeatureResultPublic(_FromRow):
    model_version: str | None
    feature: str
    role: str
    test: str
    method: str
    statistic: float | None
    effect_size: float | None
    p_value: float | None
    adjusted_p_value: float | None
    threshold: float | None
    p_value_threshold: float | None
    drifted: bool
    n_ref: int
    n_cur: int
    new_categories: list[str]
    message: str | None


class QualityCheckPublic(_FromRow):
    feature: str
    check: str
    count: int
    n_rows: int
    share: float
    threshold: float
    failed: bool
    message: str | None


class RunDetail(RunPublic):
    results: list[FeatureResultPublic]
    quality: list[QualityCheckPublic]
    multivariate: MultivariatePoint | None = None
    has_report: bool


class DriftStatePublic(_FromRow):
    feature: str
    model_version: str | None
    status: str
    drifted_streak: int
    clean_streak: int
    since: datetime
    last_run_id: int | None


class MonitorDriftState(BaseModel):
    monitor: str
    model_version: str | None = Field(description="The version whose baseline it follows")
    status: str
    since: datetime | None
    features: list[DriftStatePublic]


class SeriesPoint(BaseModel):
    run_id: int
    window_end: datetime
    model_version: str | None
    value: float | None
    threshold: float | None
    drifted: bool


class StatisticSeries(BaseModel):
    feature: str
    test: str
    field: str
    points: list[SeriesPoint]


class BackfillRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: datetime
    end: datetime
    step: str | None = Field(
        default=None,
        examples=["1h"],
        description="How far apart the windows' ends are; the monitor's window by default.",
        json_schema_extra={"anyOf": [POSITIVE_DURATION_SCHEMA, {"type": "null"}]},
    )

    @field_validator("step")
    @classmethod
    def _a_positive_duration(cls, step: str | None) -> str | None:
        if step is not None and parse_duration(step) <= timedelta(0):
            raise ValueError("step must be longer than zero, e.g. 1h")
        return step


class RunNowRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    window_end: datetime | None = None


class QueuedRuns(BaseModel):
    run_ids: list[int]
    count: int
    already_queued: int = Field(
        0,
        description="Of these, windows a scheduled or backfilled run already held (queued or "
        "run before): their existing run's id is listed, and nothing is run twice.",
    )
