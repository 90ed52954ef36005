"""One try at a delivery: when, what the receiver answered, how long it took, what went wrong."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import BigInteger, String
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from monitor.store.types import BigIntegerId, UTCDateTime


class AttemptOutcome(StrEnum):
    SENDING = "sending"  # claimed, no answer recorded yet
    DELIVERED = "delivered"
    FAILED = "failed"  # the delivery retries later or is dead; its note says which
    INTERRUPTED = "interrupted"  # the dispatcher stopped before recording the answer


class DeliveryAttempt(SQLModel, table=True):
    __tablename__ = "delivery_attempt"

    id: int | None = TableField(default=None, primary_key=True, sa_type=BigIntegerId)
    delivery_id: int = TableField(
        foreign_key="delivery.id", ondelete="CASCADE", index=True, sa_type=BigInteger
    )
    number: int = TableField(description="1 for the first attempt, over the delivery's life")
    started_at: datetime = TableField(sa_type=UTCDateTime, nullable=False)
    outcome: str = TableField(sa_type=String(16))
    status_code: int | None = None
    latency_ms: float | None = None
    error: str | None = TableField(default=None, max_length=500)


class DeliveryAttemptPublic(BaseModel):
    number: int
    started_at: datetime
    outcome: AttemptOutcome
    status_code: int | None
    latency_ms: float | None
    error: str | None
