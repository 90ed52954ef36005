"""Monitors of a model: configure them (admin), run them now or over the past (admin)."""

from fastapi import APIRouter, status

from monitor.api.deps import AdminKey, ModelDep, ReadKey, SessionDep
from monitor.entities.monitor import MonitorCreate, MonitorPublic, MonitorUpdate
from monitor.entities.run import RunTrigger
from monitor.entities.run_views import BackfillRequest, QueuedRuns, RunNowRequest
from monitor.services import monitors, runs
from monitor.store.types import utc_now

router = APIRouter(prefix="/api/v1/models/{model}/monitors", tags=["monitors"])


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[AdminKey])
def create_monitor(
    session: SessionDep, model: ModelDep, monitor_in: MonitorCreate
) -> MonitorPublic:
    created = monitors.create_monitor(session=session, model=model, monitor_in=monitor_in)
    return monitors.to_public(created, model)


@router.get("", dependencies=[ReadKey])
def list_monitors(session: SessionDep, model: ModelDep) -> list[MonitorPublic]:
    return [
        monitors.to_public(m, model) for m in monitors.list_monitors(session=session, model=model)
    ]


@router.get("/{monitor}", dependencies=[ReadKey])
def read_monitor(session: SessionDep, model: ModelDep, monitor: str) -> MonitorPublic:
    found = monitors.get_monitor(session=session, model=model, name=monitor)
    return monitors.to_public(found, model)


@router.patch("/{monitor}", dependencies=[AdminKey])
def update_monitor(
    session: SessionDep, model: ModelDep, monitor: str, monitor_in: MonitorUpdate
) -> MonitorPublic:
    updated = monitors.update_monitor(
        session=session, model=model, name=monitor, monitor_in=monitor_in
    )
    return monitors.to_public(updated, model)


@router.post(
    "/{monitor}/runs",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[AdminKey],
    summary="Run now (queued for the scheduler; poll the run)",
)
def run_now(
    session: SessionDep, model: ModelDep, monitor: str, request: RunNowRequest | None = None
) -> QueuedRuns:
    found = monitors.get_monitor(session=session, model=model, name=monitor)
    end = (request.window_end if request else None) or utc_now()
    ids, _ = runs.queue_runs(
        session=session, monitor=found, window_ends=[end], trigger=RunTrigger.MANUAL
    )
    return QueuedRuns(run_ids=ids, count=len(ids))


@router.post(
    "/{monitor}/backfill",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[AdminKey],
    summary="Queue runs over consecutive past windows",
)
def backfill(
    session: SessionDep, model: ModelDep, monitor: str, request: BackfillRequest
) -> QueuedRuns:
    found = monitors.get_monitor(session=session, model=model, name=monitor)
    ends = monitors.backfill_window_ends(found, request.start, request.end, request.step)
    ids, already = runs.queue_runs(
        session=session, monitor=found, window_ends=ends, trigger=RunTrigger.BACKFILL
    )
    return QueuedRuns(run_ids=ids, count=len(ids), already_queued=already)
