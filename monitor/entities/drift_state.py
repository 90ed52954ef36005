"""The settled drift state of a monitor, per column and for the whole data set, with hysteresis."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from monitor.store.types import UTCDateTime, utc_now

DATASET = "__dataset__"  # the state row of the whole data set's verdict
ALERT = "__monitor__"  # the state row of the monitor as a whole: drifting while any column is


class DriftStatus(StrEnum):
    OK = "ok"
    DRIFTING = "drifting"


class DriftState(SQLModel, table=True):
    __tablename__ = "drift_state"
    __table_args__ = (UniqueConstraint("monitor_id", "feature", name="uq_drift_state_feature"),)

    id: int | None = TableField(default=None, primary_key=True)
    monitor_id: int = TableField(foreign_key="monitor.id", ondelete="CASCADE")
    model_id: int = TableField(foreign_key="registered_model.id", ondelete="CASCADE", index=True)
    feature: str = TableField(max_length=160)
    model_version: str | None = TableField(
        default=None, max_length=128, description="The version whose baseline the streaks count on"
    )
    status: DriftStatus = TableField(default=DriftStatus.OK, sa_type=String(16))
    drifted_streak: int = 0
    clean_streak: int = 0
    since: datetime = TableField(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)
    last_run_id: int | None = None
    updated_at: datetime = TableField(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)
