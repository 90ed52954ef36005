"""A notification channel: where events go (Slack, PagerDuty, a signed webhook), which of them
(filters), how often (grouping, rate limit), and the secrets that reach the receiver, which are
stored server-side and only ever shown masked."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import String
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from monitor.entities.event import EventType, Severity
from monitor.entities.registered_model import Name
from monitor.security.crypto import EncryptedJSON
from monitor.store.types import JSONValue, UTCDateTime, utc_now

ChannelName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


class ChannelKind(StrEnum):
    SLACK = "slack"
    PAGERDUTY = "pagerduty"
    WEBHOOK = "webhook"


# What each kind takes in `secrets` and `options`, as JSON Schema patterns of the values the
# server accepts (services/channels.py checks them and explains a refusal). Published in the
# OpenAPI document so that clients and fuzzers see each kind's own fields.
HTTP_URL_PATTERN = r"^https?://[A-Za-z0-9](?:[A-Za-z0-9.-]{0,253})(?::[0-9]{1,4})?(?:/\S*)?$"
ROUTING_KEY_PATTERN = r"^[A-Za-z0-9]{32}$"
SIGNING_SECRET_PATTERN = r"^whsec_(?:[A-Za-z0-9+/]{4}){8,16}$"  # base64 of 24 to 48 bytes
_TEXT = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"\S"}
CHANNEL_FIELDS: dict[ChannelKind, dict[str, dict[str, dict[str, Any]]]] = {
    ChannelKind.SLACK: {
        "secrets": {"webhook_url": {"type": "string", "pattern": HTTP_URL_PATTERN}},
        "options": {},
    },
    ChannelKind.PAGERDUTY: {
        "secrets": {"routing_key": {"type": "string", "pattern": ROUTING_KEY_PATTERN}},
        "options": {
            "events_url": {"type": "string", "pattern": HTTP_URL_PATTERN},
            "source": _TEXT,
        },
    },
    ChannelKind.WEBHOOK: {
        "secrets": {
            "url": {"type": "string", "pattern": HTTP_URL_PATTERN},
            "signing_secret": {"type": "string", "pattern": SIGNING_SECRET_PATTERN},
        },
        "options": {},
    },
}


def _one_of_kinds(schema: dict[str, Any]) -> None:
    """Each kind's secrets (all required) and options (all optional), nothing else."""
    schema["oneOf"] = [
        {
            "properties": {
                "kind": {"const": str(kind)},
                "secrets": {
                    "type": "object",
                    "properties": fields["secrets"],
                    "required": list(fields["secrets"]),
                    "additionalProperties": False,
                },
                "options": {
                    "type": "object",
                    "properties": fields["options"],
                    "additionalProperties": False,
                },
            },
            "required": ["kind", "secrets"],
        }
        for kind, fields in CHANNEL_FIELDS.items()
    ]


class ChannelFilters(BaseModel):
    """Which events the channel receives; an empty list lets every value through."""

    model_config = ConfigDict(extra="forbid")

    event_types: list[EventType] = Field(default_factory=list, examples=[["drift.detected"]])
    models: list[Name] = Field(
        default_factory=list, description="Empty: every model, and events of no model"
    )
    min_severity: Severity | None = Field(
        default=None, description="Default: warning for pagerduty, info otherwise"
    )


class ChannelGrouping(BaseModel):
    """Alertmanager-style grouping per dedup key (see docs/notifications.md); all zero sends
    every event."""

    model_config = ConfigDict(extra="forbid")

    group_wait_seconds: float = Field(
        default=30.0, ge=0, le=86_400, description="First notification of a group waits this"
    )
    group_interval_seconds: float = Field(
        default=300.0, ge=0, le=604_800, description="Least time between two of a group"
    )
    repeat_interval_seconds: float = Field(
        default=14_400.0, ge=0, le=2_592_000, description="Re-send an unchanged alert after this"
    )


class ChannelCreate(BaseModel):
    """Request body of `POST /api/v1/channels`. `secrets` by kind: slack `webhook_url`;
    pagerduty `routing_key`; webhook `url` and `signing_secret`. `options` by kind: pagerduty
    `events_url`, `source`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_one_of_kinds)

    name: ChannelName
    kind: ChannelKind
    enabled: bool = True
    filters: ChannelFilters = ChannelFilters()
    grouping: ChannelGrouping = ChannelGrouping()
    rate_limit_per_second: float | None = Field(
        default=None, gt=0, le=1000, description="Default: slack 1, pagerduty 2, webhook 10"
    )
    options: dict[str, str] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict, description="Write-only")


class ChannelUpdate(BaseModel):
    """Request body of `PATCH /api/v1/channels/{name}`. `secrets` and `options` are merged into
    the stored ones (an option set to null returns to its default)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    filters: ChannelFilters | None = None
    grouping: ChannelGrouping | None = None
    rate_limit_per_second: float | None = Field(default=None, gt=0, le=1000)
    options: dict[str, str | None] | None = None
    secrets: dict[str, str] | None = None


class Channel(SQLModel, table=True):
    __tablename__ = "channel"

    id: int | None = TableField(default=None, primary_key=True)
    name: str = TableField(max_length=64, unique=True)
    kind: str = TableField(sa_type=String(16))
    enabled: bool = True
    filters: dict[str, Any] = TableField(sa_type=JSONValue, nullable=False)
    grouping: dict[str, Any] = TableField(sa_type=JSONValue, nullable=False)
    rate_limit_per_second: float
    options: dict[str, str] = TableField(sa_type=JSONValue, nullable=False)
    secrets: dict[str, str] = TableField(sa_type=EncryptedJSON, nullable=False, repr=False)
    # Nothing is sent before this: the rate limit's next slot, or a receiver's Retry-After.
    next_send_at: datetime | None = TableField(default=None, sa_type=UTCDateTime)
    created_at: datetime = TableField(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = TableField(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)


class ChannelPublic(BaseModel):
    name: str
    kind: ChannelKind
    enabled: bool
    filters: ChannelFilters
    grouping: ChannelGrouping
    rate_limit_per_second: float
    options: dict[str, str]
    secrets: dict[str, str] = Field(description="Masked: enough to recognise, never to use")
    created_at: datetime
    updated_at: datetime


class ChannelsPublic(BaseModel):
    data: list[ChannelPublic]
    count: int
