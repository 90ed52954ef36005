"""The event log: every drift onset, resolution and failure, filterable."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from monitor.api.deps import Offset, ReadKey, SessionDep, SettingsDep
from monitor.entities.event import EventPublic, Severity
from monitor.services import events

router = APIRouter(prefix="/api/v1/events", tags=["events"], dependencies=[ReadKey])


class EventsPublic(BaseModel):
    data: list[EventPublic]
    count: int


@router.get("", summary="Events, newest first")
def list_events(
    session: SessionDep,
    settings: SettingsDep,
    model: str | None = None,
    type: Annotated[list[str] | None, Query(description="Repeat to match several")] = None,
    min_severity: Annotated[Severity | None, Query(description="This and graver")] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventsPublic:
    found, count = events.list_events(
        session=session,
        model=model,
        types=type,
        min_severity=min_severity,
        since=since,
        until=until,
        offset=offset,
        limit=limit,
    )
    return EventsPublic(
        data=[events.to_public(e, settings.dashboard_url) for e in found], count=count
    )
