"""API keys: scoped bearer tokens, stored as SHA-256 digests (the key itself is shown once)."""

from datetime import datetime
from enum import StrEnum

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
