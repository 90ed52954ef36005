"""Halves of KServe payload-logger pairs: a request event waiting for its response (or the
reverse), kept in the store so that any API replica can complete the pair, and the count of
halves that waited in vain."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import BigInteger, Index, UniqueConstraint
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from monitor.store.types import BigIntegerId, JSONValue, UTCDateTime


class PendingPair(SQLModel, table=True):
    """One `ce-id` of one model whose request or response has not arrived yet."""

    __tablename__ = "kserve_pending_pair"
    __table_args__ = (
        UniqueConstraint("model_id", "event_id", name="uq_kserve_pending_pair_model_event"),
        Index("ix_kserve_pending_pair_first_seen", "first_seen_at"),
    )

    id: int | None = TableField(default=None, primary_key=True, sa_type=BigIntegerId)
    model_id: int = TableField(foreign_key="registered_model.id", ondelete="CASCADE")
    event_id: str = TableField(max_length=256)
    # The checked halves: {"time", "endpoint", "features": [...]} and
    # {"time", "model_version", "predictions": [...]}; null until that half arrives.
    request: dict[str, Any] | None = TableField(default=None, sa_type=JSONValue)
    response: dict[str, Any] | None = TableField(default=None, sa_type=JSONValue)
    first_seen_at: datetime = TableField(sa_type=UTCDateTime, nullable=False)


class ExpiredPairs(SQLModel, table=True):
    """Per model, how many halves housekeeping dropped because their other half never came."""

    __tablename__ = "kserve_expired_pairs"

    model_id: int = TableField(
        primary_key=True, foreign_key="registered_model.id", ondelete="CASCADE"
    )
    requests: int = TableField(default=0, sa_type=BigInteger, nullable=False)
    responses: int = TableField(default=0, sa_type=BigInteger, nullable=False)


class PairingStatus(BaseModel):
    """What `GET /api/v1/models/{model}/kserve/pending` reports."""

    waiting_requests: int = Field(description="Request events whose response has not arrived.")
    waiting_responses: int = Field(description="Response events whose request has not arrived.")
    oldest_waiting_since: datetime | None = Field(
        description="When the oldest waiting half arrived; null when none waits."
    )
    expired_requests: int = Field(
        description="Request events dropped after waiting MONITOR_KSERVE_PAIR_WAIT_SECONDS "
        "(the model answered an error, or the logger lost the response)."
    )
    expired_responses: int = Field(
        description="Response events dropped after waiting MONITOR_KSERVE_PAIR_WAIT_SECONDS."
    )
    wait_seconds: float = Field(description="How long a half waits for the other one.")


class EventAccepted(BaseModel):
    """The answer to one CloudEvent."""

    outcome: str = Field(
        description="`landed`: the pair is complete and its records are stored; `waiting`: this "
        "half is kept until the other arrives; `duplicate`: this half was already received."
    )
    accepted: int = Field(description="Records stored by this event.")
    duplicates: int = Field(description="Records of this pair that were already stored.")
