"""Model quality per monitored window (realized from late labels, estimated from scores), the
monitor's settled quality state, and multivariate drift per run."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from monitor.store.types import BigIntegerId, UTCDateTime, utc_now


class QualityResult(SQLModel, table=True):
    """One metric of one window of a monitor; re-evaluated in place as late labels arrive."""

    __tablename__ = "quality_result"
    __table_args__ = (
        UniqueConstraint("monitor_id", "window_end", "metric", name="uq_quality_result_metric"),
        Index("ix_quality_result_model_records", "model_id", "last_record_at"),
        Index("ix_quality_result_stale", "stale"),
    )

    id: int | None = TableField(default=None, primary_key=True, sa_type=BigIntegerId)
    monitor_id: int = TableField(foreign_key="monitor.id", ondelete="CASCADE")
    model_id: int = TableField(foreign_key="registered_model.id", ondelete="CASCADE")
    run_id: int | None = TableField(default=None, sa_type=BigIntegerId)
    model_version: str | None = TableField(default=None, max_length=128)
    reference_id: int | None = None
    window_start: datetime = TableField(sa_type=UTCDateTime, nullable=False)
    window_end: datetime = TableField(sa_type=UTCDateTime, nullable=False)
    first_record_at: datetime = TableField(sa_type=UTCDateTime, nullable=False)
    last_record_at: datetime = TableField(sa_type=UTCDateTime, nullable=False)
    metric: str = TableField(max_length=32)
    realized: float | None = None
    realized_low: float | None = None
    realized_high: float | None = None
    estimated: float | None = None
    estimated_low: float | None = None
    estimated_high: float | None = None
    reference: float
    lower_bound: float | None = None
    upper_bound: float | None = None
    n_records: int
    n_labelled: int
    label_coverage: float
    judged: bool = TableField(description="Enough labelled rows for a verdict")
    degraded: bool
    estimated_degraded: bool = False
    message: str | None = TableField(default=None, sa_type=Text)
    label_revision: int = TableField(default=0, description="Label batches that touched the window")
    stale: bool = TableField(default=False, description="Labels arrived since it was evaluated")
    evaluated_at: datetime = TableField(
        default_factory=utc_now, sa_type=UTCDateTime, nullable=False
    )


class QualityStatus(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"


class QualityState(SQLModel, table=True):
    """A monitor's settled quality: the last transition and the window that caused it."""

    __tablename__ = "quality_state"

    id: int | None = TableField(default=None, primary_key=True)
    monitor_id: int = TableField(foreign_key="monitor.id", ondelete="CASCADE", unique=True)
    model_id: int = TableField(foreign_key="registered_model.id", ondelete="CASCADE")
    model_version: str | None = TableField(default=None, max_length=128)
    status: QualityStatus = TableField(default=QualityStatus.OK, sa_type=String(16))
    since: datetime | None = TableField(default=None, sa_type=UTCDateTime)
    updated_at: datetime = TableField(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)


class MultivariateResult(SQLModel, table=True):
    """The multivariate drift verdict of one run (PCA reconstruction error)."""

    __tablename__ = "multivariate_result"
    __table_args__ = (Index("ix_multivariate_result_monitor_window", "monitor_id", "window_end"),)

    run_id: int = TableField(
        foreign_key="monitor_run.id", ondelete="CASCADE", primary_key=True, sa_type=BigIntegerId
    )
    monitor_id: int = TableField(foreign_key="monitor.id", ondelete="CASCADE")
    model_version: str | None = TableField(default=None, max_length=128)
    window_start: datetime = TableField(sa_type=UTCDateTime, nullable=False)
    window_end: datetime = TableField(sa_type=UTCDateTime, nullable=False)
    method: str = TableField(max_length=32)
    statistic: float | None = None
    reference: float
    threshold: float | None = None
    drifted: bool
    n_ref: int
    n_cur: int
    components: int
    message: str | None = TableField(default=None, sa_type=Text)


class _FromRow(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class QualityPoint(_FromRow):
    model_version: str | None
    reference_id: int | None
    window_start: datetime
    window_end: datetime
    metric: str
    realized: float | None
    realized_low: float | None
    realized_high: float | None
    estimated: float | None
    estimated_low: float | None
    estimated_high: float | None
    reference: float
    lower_bound: float | None
    upper_bound: float | None
    n_records: int
    n_labelled: int
    label_coverage: float
    degraded: bool
    evaluated_at: datetime


class QualitySeries(BaseModel):
    data: list[QualityPoint]
    count: int


class MultivariatePoint(_FromRow):
    model_version: str | None
    window_start: datetime
    window_end: datetime
    method: str
    statistic: float | None
    threshold: float | None
    drifted: bool


class MultivariateSeries(BaseModel):
    data: list[MultivariatePoint]
    count: int
