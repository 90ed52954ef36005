"""Events: typed facts in one stable envelope, written to an outbox in the same transaction as the
change that caused them, and delivered from there."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Index, String
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from monitor.store.types import BigIntegerId, JSONValue, UTCDateTime, utc_now


class EventType(StrEnum):
    DRIFT_DETECTED = "drift.detected"
    DRIFT_ONGOING = "drift.ongoing"
    DRIFT_RESOLVED = "drift.resolved"
    RUN_FAILED = "run.failed"
    MONITOR_REBASELINED = "monitor.rebaselined"
    RETRAIN_REQUESTED = "retrain.requested"
    RETRAIN_STARTED = "retrain.started"
    RETRAIN_SUCCEEDED = "retrain.succeeded"
    RETRAIN_FAILED = "retrain.failed"
    MODEL_REGISTERED = "model.registered"
    VALIDATION_PASSED = "validation.passed"
    VALIDATION_FAILED = "validation.failed"
    ROLLOUT_STARTED = "rollout.started"
    ROLLOUT_STEP = "rollout.step"
    ROLLOUT_PROMOTED = "rollout.promoted"
    ROLLOUT_ROLLED_BACK = "rollout.rolled_back"
    ROLLOUT_PAUSED = "rollout.paused"
    ROLLOUT_RESUMED = "rollout.resumed"
    ROLLOUT_ABORTED = "rollout.aborted"
    MODEL_QUALITY_DEGRADED = "model_quality.degraded"
    MODEL_QUALITY_RECOVERED = "model_quality.recovered"
    DATA_QUALITY_NEW_CATEGORY = "data_quality.new_category"
    DATA_QUALITY_MISSING_VALUES = "data_quality.missing_values"
    DATA_QUALITY_OUT_OF_RANGE = "data_quality.out_of_range"
    DATA_QUALITY_TYPE_ERRORS = "data_quality.type_errors"
    DATA_QUALITY_RESOLVED = "data_quality.resolved"
    NOTIFICATION_TEST = "notification.test"  # sent to one channel on request, never fanned out


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"

    def at_least(self) -> list["Severity"]:
        """This severity and every graver one (members are declared mildest first)."""
        order = list(Severity)
        return order[order.index(self) :]


class Event(SQLModel, table=True):
    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_model_time", "model_id", "time"),
        Index("ix_event_type_time", "type", "time"),
        # The event log's pages: every event newest first, and one model's by its name.
        Index("ix_event_time_id", "time", "id"),
        Index("ix_event_model_name_time", "model", "time"),
    )

    id: int | None = TableField(default=None, primary_key=True, sa_type=BigIntegerId)
    uid: str = TableField(max_length=40, unique=True, description="Stable id sent to receivers")
    type: str = TableField(sa_type=String(48))
    time: datetime = TableField(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)
    model_id: int | None = TableField(
        default=None, foreign_key="registered_model.id", ondelete="CASCADE"
    )
    model: str | None = TableField(default=None, max_length=128)
    monitor_id: int | None = TableField(default=None, foreign_key="monitor.id", ondelete="SET NULL")
    severity: str = TableField(sa_type=String(16))
    dedup_key: str | None = TableField(default=None, max_length=200)
    data: dict[str, Any] = TableField(sa_type=JSONValue, nullable=False)
    # Set once the notification fan-out has turned the event into deliveries. A flag rather than
    # a cursor: on PostgreSQL a lower id can commit after a higher one.
    fanned_out_at: datetime | None = TableField(default=None, sa_type=UTCDateTime, index=True)


class EventPublic(BaseModel):
    id: str
    type: str
    time: datetime
    model: str | None
    severity: str
    dedup_key: str | None
    data: dict[str, Any]
    dashboard_url: str | None
