"""API keys: scoped bearer tokens, stored as SHA-256 digests (the key itself is shown once)."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import String
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from monitor.store.types import UTCDateTime, utc_now


class Scope(StrEnum):
    """What a key may do. `admin` may do everything; the other two are disjoint."""

    INGEST = "ingest"  # sidecars: inferences, labels, routing
    READ = "read"  # dashboard and queries
    ADMIN = "admin"  # configuration

    def allows(self, required: "Scope") -> bool:
        return self is Scope.ADMIN or self is required


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"

    id: int | None = TableField(default=None, primary_key=True)
    name: str = TableField(default="", max_length=128)
    prefix: str = TableField(unique=True, index=True, max_length=16)
    key_hash: str = TableField(max_length=64)
    scope: Scope = TableField(sa_type=String(16))
    created_at: datetime = TableField(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)
    revoked_at: datetime | None = TableField(default=None, sa_type=UTCDateTime)
    expires_at: datetime | None = TableField(default=None, sa_type=UTCDateTime)
    # Written at most once per minute per key, so the hot path stays off the database.
    last_used_at: datetime | None = TableField(default=None, sa_type=UTCDateTime)


class ApiKeyCreate(BaseModel):
    """Request body of `POST /api/v1/keys`."""

    model_config = ConfigDict(extra="forbid")

    scope: Scope
    name: str = Field(default="", max_length=128, description="Who holds the key")
    expires_in_days: int | None = Field(
        default=None, ge=1, le=3650, description="Omitted: the key never expires"
    )


class ApiKeyPublic(BaseModel):
    """A key as listed: never its secret or its digest."""

    prefix: str = Field(description="The key's public part, `mon_<prefix>_...`; names it")
    name: str
    scope: Scope
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, api_key: ApiKey) -> "ApiKeyPublic":
        return cls.model_validate(api_key, from_attributes=True)


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="The key itself, shown only in this answer")


class ApiKeysPublic(BaseModel):
    data: list[ApiKeyPublic]
    count: int
