"""Every model at a glance (the dashboard's first page): health, last run, alerts, traffic."""

from typing import Annotated

from fastapi import APIRouter, Query

from monitor.api.deps import Offset, ReadKey, SessionDep
from monitor.services import overview
from monitor.services.overview import ModelNamesPublic, OverviewPublic
from monitor.store.types import utc_now

router = APIRouter(prefix="/api/v1/overview", tags=["overview"], dependencies=[ReadKey])


@router.get("", summary="Models by name, each with its health and hourly traffic")
def model_overview(
    session: SessionDep,
    hours: Annotated[int, Query(ge=1, le=168, description="Hours of traffic counts")] = 24,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> OverviewPublic:
    return overview.model_overview(
        session=session, now=utc_now(), hours=hours, offset=offset, limit=limit
    )


@router.get("/model-names", summary="Every model's name, alphabetically (for pickers)")
def model_names(
    session: SessionDep,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> ModelNamesPublic:
    return overview.model_names(session=session, offset=offset, limit=limit)
