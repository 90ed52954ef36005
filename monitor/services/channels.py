"""Configuring notification channels: each kind's secrets and options checked (the error names
the field and the fix, never the value), defaults by kind, and secrets masked on the way out."""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from monitor.entities.channel import (
    Channel,
    ChannelCreate,
    ChannelFilters,
    ChannelGrouping,
    ChannelKind,
    ChannelPublic,
    ChannelUpdate,
)
from monitor.entities.event import Severity
from monitor.security.masking import mask
from monitor.services.errors import Conflict, NotFound, Unprocessable
from monitor.store.types import utc_now
from triggers.notifications.grouping import Grouping
from triggers.notifications.pagerduty import EVENTS_URL
from triggers.notifications.webhook import decode_secret

_ROUTING_KEY = re.compile(r"^[A-Za-z0-9]{32}$")


def _check_url(value: str) -> None:
    if any(char.isspace() or not char.isprintable() for char in value):
        raise ValueError("it contains spaces or control characters")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL")
    try:
        parts.port  # noqa: B018  (parsed on access)
    except ValueError:
        raise ValueError("its port is not a number from 0 to 65535") from None


def _check_routing_key(value: str) -> None:
    if not _ROUTING_KEY.match(value):
        raise ValueError("not 32 letters and digits")


def _check_signing_secret(value: str) -> None:
    decode_secret(value)


def _check_text(value: str) -> None:
    if not value.strip() or len(value) > 255:
        raise ValueError("not 1 to 255 characters")


@dataclass(frozen=True, slots=True)
class FieldSpec:
    check: Callable[[str], None]
    hint: str


@dataclass(frozen=True, slots=True)
class KindSpec:
    secrets: Mapping[str, FieldSpec]
    options: Mapping[str, FieldSpec] = field(default_factory=dict)
    rate_limit_per_second: float = 10.0
    min_severity: Severity = Severity.INFO


KINDS: Mapping[ChannelKind, KindSpec] = {
    ChannelKind.SLACK: KindSpec(
        secrets={
            "webhook_url": FieldSpec(
                _check_url,
                "give the Incoming Webhook URL of your Slack app "
                "(https://hooks.slack.com/services/...)",
            )
        },
        rate_limit_per_second=1.0,  # Slack allows about one message a second per webhook
    ),
    ChannelKind.PAGERDUTY: KindSpec(
        secrets={
            "routing_key": FieldSpec(
                _check_routing_key,
                "give the Integration Key of an Events API v2 integration on the PagerDuty "
                "service (32 characters, on its Integrations tab)",
            )
        },
        options={
            "events_url": FieldSpec(
                _check_url, f"give the Events API v2 enqueue URL (default {EVENTS_URL})"
            ),
            "source": FieldSpec(_check_text, "name the system the alert is about"),
        },
        rate_limit_per_second=2.0,
        min_severity=Severity.WARNING,
    ),
    ChannelKind.WEBHOOK: KindSpec(
        secrets={
            "url": FieldSpec(_check_url, "give the receiver's http(s) URL"),
            "signing_secret": FieldSpec(
                _check_signing_secret,
                "give whsec_ followed by the base64 of 24 to 64 random bytes, e.g. from "
                "`python -c \"import base64,os;print('whsec_'+base64.b64encode(os.urandom(32))"
                '.decode())"`',
            ),
        },
    ),
}


def _checked(
    kind: ChannelKind, group: str, given: Mapping[str, str], specs: Mapping[str, FieldSpec]
) -> dict[str, str]:
    for name, value in given.items():
        spec = specs.get(name)
        if spec is None:
            allowed = ", ".join(specs) or "none"
            raise Unprocessable(
                f"{group}.{name}",
                f"{group}.{name} is not a setting of a {kind} channel; it takes: {allowed}",
            )
        try:
            spec.check(value)
        except ValueError as error:  # the message describes the value, never repeats it
            raise Unprocessable(
                f"{group}.{name}", f"{group}.{name} is invalid ({error}); {spec.hint}"
            ) from None
    return dict(given)


def _check_secrets(kind: ChannelKind, secrets: Mapping[str, str]) -> dict[str, str]:
    specs = KINDS[kind].secrets
    for name, spec in specs.items():
        if not secrets.get(name):
            raise Unprocessable(
                f"secrets.{name}", f"secrets.{name} is required for a {kind} channel: {spec.hint}"
            )
    return _checked(kind, "secrets", secrets, specs)


def grouping_of(channel: Channel) -> Grouping:
    settings = ChannelGrouping.model_validate(channel.grouping)
    return Grouping(
        group_wait=timedelta(seconds=settings.group_wait_seconds),
        group_interval=timedelta(seconds=settings.group_interval_seconds),
        repeat_interval=timedelta(seconds=settings.repeat_interval_seconds),
    )


def filters_of(channel: Channel) -> ChannelFilters:
    return ChannelFilters.model_validate(channel.filters)


def to_public(channel: Channel) -> ChannelPublic:
    return ChannelPublic(
        name=channel.name,
        kind=ChannelKind(channel.kind),
        enabled=channel.enabled,
        filters=filters_of(channel),
        grouping=ChannelGrouping.model_validate(channel.grouping),
        rate_limit_per_second=channel.rate_limit_per_second,
        options=dict(channel.options),
        secrets={name: mask(value) for name, value in channel.secrets.items()},
        created_at=channel.created_at,
        updated_at=channel.updated_at,
    )


def _filters(kind: ChannelKind, filters: ChannelFilters) -> dict[str, object]:
    resolved = filters.model_copy(
        update={"min_severity": filters.min_severity or KINDS[kind].min_severity}
    )
    return resolved.model_dump(mode="json")


def get_channel(*, session: Session, name: str) -> Channel:
    channel = session.exec(select(Channel).where(Channel.name == name)).first()
    if channel is None:
        raise NotFound(f"no channel named {name!r}; create it with POST /api/v1/channels")
    return channel


def list_channels(*, session: Session) -> list[Channel]:
    return list(session.exec(select(Channel).order_by(col(Channel.name))))


def _name_taken(name: str) -> Conflict:
    return Conflict(
        f"a channel named {name!r} exists; change it with PATCH /api/v1/channels/{name}"
    )


def create_channel(*, session: Session, channel_in: ChannelCreate) -> Channel:
    kind = channel_in.kind
    if session.exec(select(Channel.id).where(Channel.name == channel_in.name)).first():
        raise _name_taken(channel_in.name)
    channel = Channel(
        name=channel_in.name,
        kind=kind.value,
        enabled=channel_in.enabled,
        filters=_filters(kind, channel_in.filters),
        grouping=channel_in.grouping.model_dump(mode="json"),
        rate_limit_per_second=channel_in.rate_limit_per_second or KINDS[kind].rate_limit_per_second,
        options=_checked(kind, "options", channel_in.options, KINDS[kind].options),
        secrets=_check_secrets(kind, channel_in.secrets),
    )
    session.add(channel)
    try:
        session.commit()
    except IntegrityError:
        # Created meanwhile by another request. Not re-raised: its message would carry the
        # INSERT's parameters, secrets included, into the error log.
        session.rollback()
        raise _name_taken(channel_in.name) from None
    session.refresh(channel)
    return channel


def update_channel(*, session: Session, name: str, channel_in: ChannelUpdate) -> Channel:
    channel = get_channel(session=session, name=name)
    kind = ChannelKind(channel.kind)
    if channel_in.enabled is not None:
        channel.enabled = channel_in.enabled
    if channel_in.filters is not None:
        channel.filters = _filters(kind, channel_in.filters)
    if channel_in.grouping is not None:
        channel.grouping = channel_in.grouping.model_dump(mode="json")
    if channel_in.rate_limit_per_second is not None:
        channel.rate_limit_per_second = channel_in.rate_limit_per_second
    if channel_in.options is not None:
        options = {**channel.options, **channel_in.options}
        kept = {key: value for key, value in options.items() if value is not None}
        channel.options = _checked(kind, "options", kept, KINDS[kind].options)
    if channel_in.secrets is not None:
        channel.secrets = _check_secrets(kind, {**channel.secrets, **channel_in.secrets})
    channel.updated_at = utc_now()
    session.add(channel)
    session.commit()
    session.refresh(channel)
    return channel


def delete_channel(*, session: Session, name: str) -> None:
    """Delete the channel with its deliveries and their attempt log."""
    session.delete(get_channel(session=session, name=name))
    session.commit()
