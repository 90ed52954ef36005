"""A monitor: which windows of a model's traffic are tested, how often, and how alerts settle."""

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Self

from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.config import JsonDict
from sqlalchemy import UniqueConstraint
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from monitor.store.types import JSONValue, UTCDateTime, utc_now

if TYPE_CHECKING:
    from detectors import PerformanceRule

Version = Annotated[str, StringConstraints(min_length=1, max_length=128)]
_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """'90s', '5m', '1h', '7d', '2w' -> timedelta."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(
            f"{text!r} is not a duration; write a number and a unit, e.g. 30s, 5m, 1h, 7d"
        )
    try:
        return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    except OverflowError:
        raise ValueError(f"{text!r} is longer than any window can be; use a shorter one") from None


# Durations as the OpenAPI document states them (up to six digits, as far as a window can reach).
DURATION_SCHEMA: JsonDict = {"type": "string", "pattern": r"^[0-9]{1,6}(s|m|h|d|w)$"}
POSITIVE_DURATION_SCHEMA: JsonDict = {
    "type": "string",
    "pattern": r"^0{0,5}[1-9][0-9]{0,5}(s|m|h|d|w)$",
}


class Schedule(BaseModel):
    """Either `every` (a duration) or `cron` (five fields, UTC)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "oneOf": [
                {"required": ["every"], "properties": {"every": {"type": "string"}}},
                {"required": ["cron"], "properties": {"cron": {"type": "string"}}},
            ]
        },
    )

    every: str | None = Field(
        default=None,
        examples=["1h"],
        json_schema_extra={"anyOf": [POSITIVE_DURATION_SCHEMA, {"type": "null"}]},
    )
    cron: str | None = Field(default=None, examples=["*/15 * * * *"])

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.every is None) == (self.cron is None):
            raise ValueError("schedule: give exactly one of 'every' (e.g. '1h') or 'cron'")
        if self.every is not None and parse_duration(self.every) < timedelta(seconds=1):
            raise ValueError("schedule.every must be at least 1s")
        if self.cron is not None:
            try:
                CronTrigger.from_crontab(self.cron, timezone="UTC")
            except ValueError as error:
                raise ValueError(f"schedule.cron {self.cron!r} is invalid: {error}") from error
        return self


class WindowSpec(BaseModel):
    """Either a trailing `duration` before each run, or the `last_records` before it."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "oneOf": [
                {"required": ["duration"], "properties": {"duration": {"type": "string"}}},
                {"required": ["last_records"], "properties": {"last_records": {"type": "integer"}}},
            ]
        },
    )

    duration: str | None = Field(
        default=None,
        examples=["1h"],
        json_schema_extra={"anyOf": [DURATION_SCHEMA, {"type": "null"}]},
    )
    last_records: int | None = Field(default=None, ge=1, le=100_000_000)

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.duration is None) == (self.last_records is None):
            raise ValueError("window: give exactly one of 'duration' (e.g. '1h') or 'last_records'")
        if self.duration is not None:
            parse_duration(self.duration)
        return self


class Hysteresis(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    onset_after: int = Field(
        default=2, ge=1, le=100, description="Drifted windows in a row to open"
    )
    resolve_after: int = Field(
        default=2, ge=1, le=100, description="Clean windows in a row to close"
    )


class QualityRule(BaseModel):
    """When one metric counts as degraded, relative to the reference (the detectors'
    `PerformanceRule`): the bound sits the largest of the margins below the reference value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str = Field(examples=["roc_auc"])
    max_drop: float | None = Field(default=None, ge=0, description="Absolute margin")
    relative_drop: float | None = Field(
        default=None, ge=0, le=1, description="Margin as a share of the reference value"
    )
    std_factor: float | None = Field(
        default=3.0, ge=0, le=100, description="Margin in standard deviations across chunks"
    )
    min_labels: int | None = Field(
        default=None, ge=1, description="Labelled rows a verdict needs (default: quality's)"
    )
    confidence: float = Field(default=0.95, ge=0.5, le=0.999)

    def performance_rule(self, min_labels: int) -> "PerformanceRule":
        # Imported here: the detectors' numerical stack (numpy, scipy) is a second of start-up
        # that every command importing the entities, `monitor keys create` included, would pay.
        from detectors import PerformanceRule

        return PerformanceRule(
            self.metric,  # type: ignore[arg-type]
            max_drop=self.max_drop,
            relative_drop=self.relative_drop,
            std_factor=self.std_factor,
            min_labels=self.min_labels or min_labels,
            confidence=self.confidence,
        )

    @model_validator(mode="after")
    def _valid(self) -> Self:
        self.performance_rule(1)  # its ValueError names the metric and the fix
        return self


class QualitySettings(BaseModel):
    """Model quality (realized from late labels, estimated from scores) and multivariate drift."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    rules: list[QualityRule] | None = Field(
        default=None,
        description="One rule per metric judged; omitted: every metric the reference's "
        "labels allow, each with the default rule",
    )
    min_labels: int = Field(default=100, ge=1, description="Labelled rows a verdict needs")
    # Quality alerts act on the first window with enough labels: one verdict already rests on
    # an interval that excludes the reference.
    hysteresis: Hysteresis = Hysteresis(onset_after=1, resolve_after=1)
    estimate: bool = Field(default=True, description="Estimate classifier quality from scores")
    multivariate: bool = Field(default=True, description="PCA reconstruction error per run")
    multivariate_std_factor: float = Field(default=3.0, gt=0, le=100)

    @model_validator(mode="after")
    def _one_rule_per_metric(self) -> Self:
        metrics = [rule.metric for rule in self.rules or ()]
        repeated = sorted({m for m in metrics if metrics.count(m) > 1})
        if repeated:
            raise ValueError(f"quality.rules: give one rule per metric; repeated {repeated}")
        return self


class MonitorBase(BaseModel):
    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")] = "drift"
    schedule: Schedule = Schedule(every="1h")
    window: WindowSpec = WindowSpec(duration="1h")
    min_rows: int = Field(
        default=100, ge=1, le=1_000_000_000, description="Fewer rows: 'not enough data'"
    )
    model_version: Version | None = Field(
        default=None,
        description="Watch this one version, whatever serves it; null: the version that is "
        "champion (stable) at each window's end, its canary and shadow records left out",
    )
    drift: dict[str, Any] = Field(
        default_factory=dict,
        description="Detector settings (tests per kind, thresholds, correction, drift share); "
        "omitted keys take the detectors' defaults.",
    )
    shap_sample_size: int = Field(
        default=0,
        ge=0,
        le=100_000,
        description="Rows explained on each side for SHAP attribution drift; 0 turns it off",
    )
    explain_model_uri: str | None = Field(
        default=None,
        examples=["models:/churn@champion"],
        description="The MLflow model whose SHAP attributions are compared (needed with SHAP)",
    )
    hysteresis: Hysteresis = Hysteresis()
    quality: QualitySettings = QualitySettings()
    actions: dict[str, Any] = Field(
        default_factory=dict, description="Notification channels and retraining pipeline to run"
    )
    store_report: bool = Field(default=False, description="Keep Evidently's HTML report per run")
    enabled: bool = True

    @model_validator(mode="after")
    def _explainable(self) -> Self:
        if self.shap_sample_size and not self.explain_model_uri:
            raise ValueError(
                "explain_model_uri: SHAP attribution drift needs the model, e.g. "
                "'models:/churn@champion' (or set shap_sample_size to 0)"
            )
        return self


class MonitorCreate(MonitorBase):
    model_config = ConfigDict(extra="forbid")


class MonitorUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schedule: Schedule | None = None
    window: WindowSpec | None = None
    min_rows: int | None = Field(default=None, ge=1, le=1_000_000_000)
    model_version: Version | None = None
    drift: dict[str, Any] | None = None
    shap_sample_size: int | None = Field(default=None, ge=0, le=100_000)
    explain_model_uri: str | None = None
    hysteresis: Hysteresis | None = None
    quality: QualitySettings | None = None
    actions: dict[str, Any] | None = None
    store_report: bool | None = None
    enabled: bool | None = None


class Monitor(SQLModel, table=True):
    __tablename__ = "monitor"
    __table_args__ = (UniqueConstraint("model_id", "name", name="uq_monitor_model_name"),)

    id: int | None = TableField(default=None, primary_key=True)
    model_id: int = TableField(foreign_key="registered_model.id", ondelete="CASCADE", index=True)
    name: str = TableField(max_length=64)
    config: dict[str, Any] = TableField(sa_type=JSONValue, nullable=False)
    enabled: bool = True
    created_at: datetime = TableField(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = TableField(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)

    @property
    def settings(self) -> MonitorBase:
        return MonitorBase.model_validate(
            {**self.config, "name": self.name, "enabled": self.enabled}
        )


class MonitorPublic(MonitorBase):
    id: int
    model: str
    created_at: datetime
    updated_at: datetime
