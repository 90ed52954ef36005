"""Which model version was champion when: the history monitors read to pick the version a window
judges, and the dashboard reads to mark each promotion on its time charts."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Index, String
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from monitor.store.types import UTCDateTime, utc_now


class ChampionSource(StrEnum):
    ROLLOUT = "rollout"  # a rollout promoted its candidate
    REGISTRY = "registry"  # `@champion` was seen moved in MLflow (by hand, a notebook, CI)
    ENDPOINT = "endpoint"  # the first stable endpoint named the version it serves


class ChampionChange(SQLModel, table=True):
    __tablename__ = "champion_change"
    __table_args__ = (Index("ix_champion_change_model_since", "model_id", "since"),)

    id: int | None = TableField(default=None, primary_key=True)
    model_id: int = TableField(foreign_key="registered_model.id", ondelete="CASCADE")
    model_version: str = TableField(max_length=128)
    previous_version: str | None = TableField(default=None, max_length=128)
    since: datetime = TableField(sa_type=UTCDateTime, nullable=False)
    source: ChampionSource = TableField(sa_type=String(16))
    rollout_id: int | None = None
    created_at: datetime = TableField(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)


class ChampionChangePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    model_version: str
    previous_version: str | None
    since: datetime
    source: ChampionSource
    rollout_id: int | None


class ChampionHistory(BaseModel):
    data: list[ChampionChangePublic]
    count: int
