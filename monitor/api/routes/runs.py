"""What monitors found: runs, their results, the drift state and statistics over time."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from monitor.api.deps import ModelDep, Offset, ReadKey, RowId, SessionDep
from monitor.entities.run import RunStatus
from monitor.entities.run_views import (
    MonitorDriftState,
    RunDetail,
    RunPublic,
    RunsPublic,
    StatisticSeries,
)
from monitor.services import monitors, runs
from monitor.services.runs import SeriesField

router = APIRouter(prefix="/api/v1/models/{model}", tags=["runs"], dependencies=[ReadKey])


@router.get("/runs", summary="Runs, newest window first")
def list_runs(
    session: SessionDep,
    model: ModelDep,
    monitor: str | None = None,
    status: RunStatus | None = None,
    since: Annotated[datetime | None, Query(description="Window end at or after")] = None,
    until: Annotated[datetime | None, Query(description="Window end before")] = None,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> RunsPublic:
    found = monitors.get_monitor(session=session, model=model, name=monitor) if monitor else None
    rows, count = runs.list_runs(
        session=session,
        model=model,
        monitor=found,
        status=status,
        since=since,
        until=until,
        offset=offset,
        limit=limit,
    )
    return RunsPublic(data=[RunPublic.model_validate(r) for r in rows], count=count)


@router.get("/runs/{run_id}", summary="A run with its per-feature results and quality checks")
def read_run(session: SessionDep, model: ModelDep, run_id: RowId) -> RunDetail:
    return runs.get_run(session=session, model=model, run_id=run_id)


@router.get("/runs/{run_id}/report", response_class=HTMLResponse, summary="Evidently report")
def read_report(session: SessionDep, model: ModelDep, run_id: RowId) -> HTMLResponse:
    return HTMLResponse(runs.run_report(session=session, model=model, run_id=run_id))


@router.get("/drift", summary="Current drift state per monitor and feature")
def drift_state(session: SessionDep, model: ModelDep) -> list[MonitorDriftState]:
    return runs.drift_states(session=session, model=model)


@router.get("/monitors/{monitor}/series/{feature}", summary="A statistic of a feature over time")
def statistic_series(
    session: SessionDep,
    model: ModelDep,
    monitor: str,
    feature: str,
    test: str | None = None,
    field: SeriesField = SeriesField.EFFECT_SIZE,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> StatisticSeries:
    found = monitors.get_monitor(session=session, model=model, name=monitor)
    return runs.statistic_series(
        session=session,
        monitor=found,
        feature=feature,
        test=test,
        field=field,
        since=since,
        until=until,
        limit=limit,
    )
