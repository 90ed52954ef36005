"""The reference data set a model's traffic is compared against, stored as Parquet chunks.

Chunks live in the database, not on a local disk, so every API replica and the scheduler read
the same reference; a chunk is small enough to stream without holding the set in memory.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import BigInteger, Index, LargeBinary, String, Text, UniqueConstraint
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from monitor.store.types import JSONValue, UTCDateTime, utc_now


class ReferenceStatus(StrEnum):
    ACTIVE = "active"  # the one in use for its model version
    SUPERSEDED = "superseded"  # replaced by a later upload for the same version; kept as history


class ReferenceSource(StrEnum):
    UPLOAD = "upload"
    RETRAINING = "retraining"  # a retraining run's held-out evaluation records


class ReferenceDataset(SQLModel, table=True):
    __tablename__ = "reference_dataset"
    __table_args__ = (
        Index("ix_reference_dataset_model_status", "model_id", "status"),
        Index("ix_reference_dataset_model_version", "model_id", "model_version"),
    )

    id: int | None = TableField(default=None, primary_key=True)
    model_id: int = TableField(foreign_key="registered_model.id", ondelete="CASCADE")
    model_version: str | None = TableField(
        default=None,
        max_length=128,
        description="The version it validates; null: unversioned (any version without its own)",
    )
    status: ReferenceStatus = TableField(default=ReferenceStatus.ACTIVE, sa_type=String(16))
    source: ReferenceSource = TableField(default=ReferenceSource.UPLOAD, sa_type=String(16))
    retraining_run_id: int | None = TableField(default=None, description="When source=retraining")
    source_format: str = TableField(max_length=16)
    row_count: int = TableField(sa_type=BigInteger)
    columns: list[dict[str, Any]] = TableField(sa_type=JSONValue, nullable=False)
    stored_bytes: int = TableField(sa_type=BigInteger)
    feature_profile: str = TableField(
        default="", sa_type=Text, description="detectors.ReferenceProfile of the features, as JSON"
    )
    output_profile: str = TableField(
        default="", sa_type=Text, description="detectors.ReferenceProfile of the outputs, as JSON"
    )
    performance_baseline: str | None = TableField(
        default=None, sa_type=Text, description="detectors.PerformanceBaseline (needs labels)"
    )
    performance_estimator: str | None = TableField(
        default=None, sa_type=Text, description="detectors.PerformanceEstimator (needs scores)"
    )
    multivariate_profile: str | None = TableField(
        default=None, sa_type=Text, description="detectors.MultivariateProfile of the features"
    )
    created_at: datetime = TableField(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)


class ReferenceChunk(SQLModel, table=True):
    __tablename__ = "reference_chunk"
    __table_args__ = (UniqueConstraint("dataset_id", "seq", name="uq_reference_chunk_seq"),)

    id: int | None = TableField(default=None, primary_key=True)
    dataset_id: int = TableField(foreign_key="reference_dataset.id", ondelete="CASCADE")
    seq: int
    row_count: int
    parquet: bytes = TableField(sa_type=LargeBinary, nullable=False)


class ReferencePublic(BaseModel):
    id: int
    model_version: str | None
    status: ReferenceStatus
    source: ReferenceSource
    retraining_run_id: int | None
    source_format: str
    row_count: int = TableField(sa_type=BigInteger)
    columns: list[dict[str, Any]]
    stored_bytes: int = TableField(sa_type=BigInteger)
    feature_profile: str = TableField(
        default="", sa_type=Text, description="detectors.ReferenceProfile of the features, as JSON"
    )
    output_profile: str = TableField(
        default="", sa_type=Text, description="detectors.ReferenceProfile of the outputs, as JSON"
    )
    created_at: datetime


class ReferenceSummary(BaseModel):
    """One reference of the model's history: which version it validates, when, how large."""

    id: int
    model_version: str | None
    status: ReferenceStatus
    source: ReferenceSource
    retraining_run_id: int | None
    row_count: int
    stored_bytes: int
    has_labels: bool
    created_at: datetime


class ReferenceHistory(BaseModel):
    data: list[ReferenceSummary]
    count: int
