"""Ground truth for a logged prediction, arriving late and joined on `request_id`."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import UniqueConstraint
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from monitor.entities.inference import RequestId
from monitor.store.types import BigIntegerId, JSONValue, UTCDateTime


class GroundTruthLabel(SQLModel, table=True):
    __tablename__ = "ground_truth_label"
    __table_args__ = (
        UniqueConstraint("model_id", "request_id", name="uq_ground_truth_label_model_request"),
    )

    id: int | None = TableField(default=None, primary_key=True, sa_type=BigIntegerId)
    model_id: int = TableField(foreign_key="registered_model.id", ondelete="CASCADE")
    request_id: str = TableField(max_length=256)
    value: Any = TableField(sa_type=JSONValue, nullable=False)
    timestamp: datetime = TableField(sa_type=UTCDateTime, nullable=False)
    received_at: datetime = TableField(sa_type=UTCDateTime, nullable=False)


class LabelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request_id: RequestId
    label: Any = Field(description="A class label, or a number for regression.")
    timestamp: datetime | None = Field(
        default=None, description="When the truth became known (RFC 3339); server time if omitted."
    )


class LabelBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    labels: list[LabelIn] = Field(min_length=1)


class LabelResult(BaseModel):
    accepted: int = Field(description="Labels stored for request ids that had none.")
    updated: int = Field(description="Labels that replaced an earlier label (a correction).")
    unmatched: int = Field(
        description="Request ids of this batch with no inference record (yet): kept, and "
        "joined if the record arrives; a steady count means labels use other ids than the "
        "records."
    )
