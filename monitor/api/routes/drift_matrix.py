"""The drift heatmap of a monitor: every column's primary test over its latest windows."""

from typing import Annotated

from fastapi import APIRouter, Query

from monitor.api.deps import ModelDep, ReadKey, SessionDep
from monitor.services import drift_matrix, monitors
from monitor.services.drift_matrix import DriftMatrix

router = APIRouter(prefix="/api/v1/models/{model}", tags=["runs"], dependencies=[ReadKey])


@router.get(
    "/monitors/{monitor}/drift-matrix",
    summary="Effect size, threshold and verdict per column and window, oldest window first",
)
def read_drift_matrix(
    session: SessionDep,
    model: ModelDep,
    monitor: str,
    windows: Annotated[int, Query(ge=1, le=500, description="Latest succeeded windows")] = 30,
) -> DriftMatrix:
    found = monitors.get_monitor(session=session, model=model, name=monitor)
    return drift_matrix.drift_matrix(session=session, monitor=found, windows=windows)
