"""Writing events to the outbox (inside the caller's transaction) and reading them back."""

import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from monitor.entities.event import Event, EventPublic, EventType, Severity
from monitor.entities.registered_model import RegisteredModel

log = logging.getLogger(__name__)


def record_event(
    session: Session,
    *,
    type: EventType,
    severity: Severity,
    model: RegisteredModel | None,
    data: dict[str, Any],
    monitor_id: int | None = None,
    dedup_key: str | None = None,
) -> Event:
    """Add an event to the session; it is committed with the change that caused it."""
    event = Event(
        uid=f"evt_{uuid.uuid4().hex}",
        type=type.value,
        severity=severity.value,
        model_id=model.id if model else None,
        model=model.name if model else None,
        monitor_id=monitor_id,
        dedup_key=dedup_key,
        data=data,
    )
    session.add(event)
    log.info(
        "event %s (%s) for %s",
        event.type,
        event.severity,
        event.model or "the installation",
        extra={"model_id": event.model_id, "monitor_id": monitor_id},
    )
    return event


def to_public(event: Event, dashboard_url: str) -> EventPublic:
    link = f"{dashboard_url.rstrip('/')}/models/{event.model}" if event.model else dashboard_url
    return EventPublic(
        id=event.uid,
        type=event.type,
        time=event.time,
        model=event.model,
        severity=event.severity,
        dedup_key=event.dedup_key,
        data=event.data,
        dashboard_url=link,
    )


def list_events(
    *,
    session: Session,
    model: str | None = None,
    types: list[str] | None = None,
    min_severity: Severity | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[Event], int]:
    query = select(Event)
    if model is not None:
        query = query.where(Event.model == model)
    if types:
        query = query.where(col(Event.type).in_(types))
    if min_severity is not None:
        query = query.where(col(Event.severity).in_(min_severity.at_least()))
    if since is not None:
        query = query.where(Event.time >= since)
    if until is not None:
        query = query.where(Event.time < until)
    count = session.exec(select(func.count()).select_from(query.subquery())).one()
    events = session.exec(
        query.order_by(col(Event.time).desc(), col(Event.id).desc()).offset(offset).limit(limit)
    ).all()
    return list(events), count
