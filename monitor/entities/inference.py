"""One logged prediction of a serving endpoint, as a sidecar reports it."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from monitor.store.types import BigIntegerId, JSONValue, UTCDateTime

JsonScalar = float | int | str | bool | None
RequestId = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class Variant(StrEnum):
    STABLE = "stable"
    CANARY = "canary"
    SHADOW = "shadow"


class InferenceRecord(SQLModel, table=True):
    __tablename__ = "inference_record"
    __table_args__ = (
        UniqueConstraint("model_id", "request_id", name="uq_inference_record_model_request"),
        Index("ix_inference_record_model_timestamp", "model_id", "timestamp"),
    )

    id: int | None = TableField(default=None, primary_key=True, sa_type=BigIntegerId)
    model_id: int = TableField(foreign_key="registered_model.id", ondelete="CASCADE")
    request_id: str = TableField(max_length=256)
    timestamp: datetime = TableField(sa_type=UTCDateTime, nullable=False)
    received_at: datetime = TableField(sa_type=UTCDateTime, nullable=False)
    model_version: str | None = TableField(default=None, max_length=128)
    variant: str | None = TableField(default=None, max_length=16)
    features: dict[str, Any] = TableField(sa_type=JSONValue, nullable=False)
    prediction: Any = TableField(sa_type=JSONValue, nullable=False)
    latency_ms: float | None = None
    status_code: int | None = None


class InferenceIn(BaseModel):
    """One record of `POST /api/v1/models/{model}/inferences`."""

    model_config = ConfigDict(extra="forbid")

    request_id: RequestId
    timestamp: datetime | None = Field(
        default=None, description="RFC 3339 with a zone; server time when omitted."
    )
    model_version: Annotated[str, StringConstraints(max_length=128)] | None = None
    variant: Variant | None = None
    features: dict[str, Any]
    prediction: Any = Field(
        description="A number (regression, or the positive-class score of a binary model), "
        "a class label, or an object of class probabilities; null only for a failed request "
        "(status_code >= 400), which is stored but kept out of drift windows."
    )
    latency_ms: float | None = Field(default=None, ge=0)
    status_code: int | None = Field(default=None, ge=100, le=599)


class InferenceBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    records: list[InferenceIn] = Field(min_length=1)


class IngestResult(BaseModel):
    accepted: int = Field(description="Records stored by this request.")
    duplicates: int = Field(description="Records whose request_id was already stored; skipped.")


class InferencePublic(BaseModel):
    request_id: str
    timestamp: datetime
    received_at: datetime
    model_version: str | None
    variant: str | None
    features: dict[str, Any]
    prediction: Any
    latency_ms: float | None
    status_code: int | None


class InferencePage(BaseModel):
    data: list[InferencePublic]
    count: int
    next_cursor: str | None = Field(
        description="Pass as `cursor` to read the next page; null on the last page."
    )
