"""Model quality per window (realized and estimated, with intervals) and multivariate drift."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from monitor.api.deps import ModelDep, ReadKey, SessionDep
from monitor.entities.quality import MultivariateSeries, QualitySeries
from monitor.services import monitors, quality

router = APIRouter(prefix="/api/v1/models/{model}", tags=["quality"], dependencies=[ReadKey])

MonitorName = Annotated[str, Query(description="The monitor's name (default: 'drift')")]
Start = Annotated[datetime | None, Query(description="Window end at or after")]
End = Annotated[datetime | None, Query(description="Window end before")]


@router.get("/quality", summary="Realized and estimated quality per window, oldest first")
def read_quality(
    session: SessionDep,
    model: ModelDep,
    monitor: MonitorName = "drift",
    start: Start = None,
    end: End = None,
) -> QualitySeries:
    found = monitors.get_monitor(session=session, model=model, name=monitor)
    return quality.quality_series(session=session, monitor=found, start=start, end=end)


@router.get("/multivariate", summary="Multivariate drift per run, oldest window first")
def read_multivariate(
    session: SessionDep,
    model: ModelDep,
    monitor: MonitorName = "drift",
    start: Start = None,
    end: End = None,
) -> MultivariateSeries:
    found = monitors.get_monitor(session=session, model=model, name=monitor)
    return quality.multivariate_series(session=session, monitor=found, start=start, end=end)
