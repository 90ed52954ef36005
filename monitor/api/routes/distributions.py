"""A column's reference distribution against a monitor's latest windows (bins, shares, CDFs)."""

from typing import Annotated

from fastapi import APIRouter, Query

from monitor.api.deps import ModelDep, ReadKey, SessionDep
from monitor.services import distributions, monitors
from monitor.services.distributions import ColumnDistribution

router = APIRouter(prefix="/api/v1/models/{model}", tags=["runs"], dependencies=[ReadKey])


@router.get(
    "/monitors/{monitor}/distributions/{column}",
    summary="Shares per reference bin or category: reference, then each window; CDFs",
)
def read_distribution(
    session: SessionDep,
    model: ModelDep,
    monitor: str,
    column: str,
    windows: Annotated[int, Query(ge=1, le=48, description="Latest succeeded windows")] = 1,
) -> ColumnDistribution:
    found = monitors.get_monitor(session=session, model=model, name=monitor)
    return distributions.column_distribution(
        session=session, model=model, monitor=found, column=column, windows=windows
    )
