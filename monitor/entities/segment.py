"""A columnar segment: the records one ingest batch inserted, as one compressed Arrow blob."""

from datetime import datetime

from sqlalchemy import Index, LargeBinary
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from monitor.store.types import BigIntegerId, UTCDateTime


class InferenceSegment(SQLModel, table=True):
    __tablename__ = "inference_segment"
    __table_args__ = (
        Index("ix_inference_segment_model_span", "model_id", "max_timestamp", "min_timestamp"),
    )

    id: int | None = TableField(default=None, primary_key=True, sa_type=BigIntegerId)
    model_id: int = TableField(foreign_key="registered_model.id", ondelete="CASCADE")
    min_timestamp: datetime = TableField(sa_type=UTCDateTime, nullable=False)
    max_timestamp: datetime = TableField(sa_type=UTCDateTime, nullable=False)
    row_count: int
    arrow: bytes = TableField(sa_type=LargeBinary, nullable=False)
    created_at: datetime = TableField(sa_type=UTCDateTime, nullable=False)
