"""A delivery: one event on its way to one channel, the unit of at-least-once delivery. Receivers
drop duplicates by the event id, which every attempt carries (`webhook-id`, PagerDuty's event)."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import BigInteger, Index, String, UniqueConstraint
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from monitor.entities.delivery_attempt import DeliveryAttemptPublic
from monitor.store.types import BigIntegerId, UTCDateTime, utc_now


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # due at next_attempt_at (waiting for its group, backing off, or sending)
    DELIVERED = "delivered"
    DEAD = "dead"  # refused (4xx) or out of retries; redeliver by hand
    SUPPRESSED = "suppressed"  # grouping: said already, or superseded by a later event


class Delivery(SQLModel, table=True):
    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("channel_id", "event_id", name="uq_delivery_channel_event"),
        Index("ix_delivery_due", "status", "next_attempt_at"),
        Index("ix_delivery_group", "channel_id", "group_key", "status", "event_id"),
    )

    id: int | None = TableField(default=None, primary_key=True, sa_type=BigIntegerId)
    channel_id: int = TableField(foreign_key="channel.id", ondelete="CASCADE")
    event_id: int = TableField(
        foreign_key="event.id", ondelete="CASCADE", index=True, sa_type=BigInteger
    )
    group_key: str = TableField(max_length=200)
    phase: str = TableField(sa_type=String(16))
    status: str = TableField(sa_type=String(16))
    note: str = TableField(default="", max_length=1000)
    attempts: int = TableField(default=0, description="Attempts since it was last queued")
    scheduled_at: datetime = TableField(sa_type=UTCDateTime, nullable=False)
    next_attempt_at: datetime | None = TableField(default=None, sa_type=UTCDateTime)
    delivered_at: datetime | None = TableField(default=None, sa_type=UTCDateTime)
    created_at: datetime = TableField(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = TableField(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)


class DeliveryPublic(BaseModel):
    id: int
    channel: str
    event_id: str
    event_type: str
    group_key: str
    phase: str
    status: DeliveryStatus
    note: str
    attempts: int
    scheduled_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    updated_at: datetime


class DeliveriesPublic(BaseModel):
    data: list[DeliveryPublic]
    count: int


class DeliveryDetail(DeliveryPublic):
    attempt_log: list[DeliveryAttemptPublic]


class TestNotificationResult(BaseModel):
    delivery: DeliveryPublic
    attempt: DeliveryAttemptPublic
