"""Monitor runs and what they found: per-feature test results and data-quality checks."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, Text, UniqueConstraint, text
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from monitor.store.types import BigIntegerId, JSONValue, UTCDateTime, utc_now


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    NOT_ENOUGH_DATA = "not_enough_data"
    FAILED = "failed"


class RunTrigger(StrEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"
    BACKFILL = "backfill"


# Triggers with one run per (monitor, window end); manual runs may repeat a window on purpose.
ONE_RUN_PER_WINDOW = frozenset((RunTrigger.SCHEDULE, RunTrigger.BACKFILL))
SCHEDULED_OR_BACKFILLED = "\"trigger\" IN ('schedule', 'backfill')"


class MonitorRun(SQLModel, table=True):
    __tablename__ = "monitor_run"
    __table_args__ = (
        Index("ix_monitor_run_model_window", "model_id", "window_end"),
        Index("ix_monitor_run_monitor_window", "monitor_id", "window_end"),
        Index("ix_monitor_run_status", "status"),
        # One scheduled or backfilled run per window: a fail-over cannot enqueue a tick twice
        # (why not model_version: the migration b7e2c4d9a116 says).
        Index(
            "uq_monitor_run_scheduled_window",
            "monitor_id",
            "window_end",
            unique=True,
            sqlite_where=text(SCHEDULED_OR_BACKFILLED),
            postgresql_where=text(SCHEDULED_OR_BACKFILLED),
        ),
    )

    id: int | None = TableField(default=None, primary_key=True, sa_type=BigIntegerId)
    monitor_id: int = TableField(foreign_key="monitor.id", ondelete="CASCADE")
    model_id: int = TableField(foreign_key="registered_model.id", ondelete="CASCADE")
    status: RunStatus = TableField(sa_type=String(16))
    trigger: RunTrigger = TableField(sa_type=String(16))
    window_start: datetime = TableField(sa_type=UTCDateTime, nullable=False)
    window_end: datetime = TableField(sa_type=UTCDateTime, nullable=False)
    model_version: str | None = TableField(
        default=None, max_length=128, description="The version judged; null: unversioned"
    )
    reference_id: int | None = TableField(default=None, description="The reference judged against")
    missed_ticks: int = TableField(default=0, description="Ticks skipped by downtime, coalesced")
    rows: int = 0
    drifted_features: int = 0
    tested_features: int = 0
    dataset_drifted: bool = False
    quality_failed: bool = False
    error: str | None = TableField(default=None, sa_type=Text)
    load_seconds: float | None = None
    compute_seconds: float | None = None
    started_at: datetime = TableField(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)
    finished_at: datetime | None = TableField(default=None, sa_type=UTCDateTime)
    heartbeat_at: datetime = TableField(
        default_factory=utc_now, sa_type=UTCDateTime, nullable=False
    )
    dispatched_at: datetime | None = TableField(
        default=None,
        sa_type=UTCDateTime,
        description="When the scheduler handed the queued run to the task engine",
    )


class FeatureResult(SQLModel, table=True):
    """One statistical test of one column (a feature, the prediction or the label) in a run."""

    __tablename__ = "feature_result"
    __table_args__ = (
        UniqueConstraint("run_id", "feature", "test", name="uq_feature_result_run_feature"),
        Index("ix_feature_result_monitor_feature", "monitor_id", "feature", "window_end"),
    )

    id: int | None = TableField(default=None, primary_key=True, sa_type=BigIntegerId)
    run_id: int = TableField(foreign_key="monitor_run.id", ondelete="CASCADE", sa_type=BigIntegerId)
    monitor_id: int = TableField(foreign_key="monitor.id", ondelete="CASCADE")
    window_end: datetime = TableField(sa_type=UTCDateTime, nullable=False)
    model_version: str | None = TableField(default=None, max_length=128)
    feature: str = TableField(max_length=160)
    role: str = TableField(max_length=16, description="feature, prediction, label or attribution")
    test: str = TableField(max_length=32)
    method: str = TableField(max_length=32)
    statistic: float | None = None
    effect_size: float | None = None
    p_value: float | None = None
    adjusted_p_value: float | None = None
    threshold: float | None = None
    p_value_threshold: float | None = None
    drifted: bool = False
    n_ref: int = 0
    n_cur: int = 0
    new_categories: list[str] = TableField(default_factory=list, sa_type=JSONValue)
    message: str | None = TableField(default=None, sa_type=Text)


class QualityCheck(SQLModel, table=True):
    """One data-quality figure of one column in a run (missing share, out of range, ...)."""

    __tablename__ = "quality_check"
    __table_args__ = (
        UniqueConstraint("run_id", "feature", "check", name="uq_quality_check_run_feature"),
    )

    id: int | None = TableField(default=None, primary_key=True, sa_type=BigIntegerId)
    run_id: int = TableField(foreign_key="monitor_run.id", ondelete="CASCADE", sa_type=BigIntegerId)
    feature: str = TableField(max_length=160)
    check: str = TableField(max_length=32)
    count: int
    n_rows: int
    share: float
    threshold: float
    failed: bool
    message: str | None = TableField(default=None, sa_type=Text)


class RunReport(SQLModel, table=True):
    """Evidently's HTML report of a run, when the monitor asks for one."""

    __tablename__ = "run_report"

    run_id: int = TableField(
        foreign_key="monitor_run.id", ondelete="CASCADE", primary_key=True, sa_type=BigIntegerId
    )
    html: str = TableField(sa_type=Text)
