"""Every model at a glance for the dashboard: health, last run, open alerts, traffic per hour,
computed for a page of models in a handful of set-based queries (never one query per model)."""

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Integer, cast, func
from sqlmodel import Session, col, select

from monitor.entities.drift_state import ALERT, DriftState, DriftStatus
from monitor.entities.inference import InferenceRecord
from monitor.entities.monitor import Monitor
from monitor.entities.registered_model import RegisteredModel
from monitor.entities.rollout import ACTIVE_STATES, Rollout, RolloutState
from monitor.entities.run import MonitorRun, RunStatus

FINISHED = (RunStatus.SUCCEEDED, RunStatus.NOT_ENOUGH_DATA, RunStatus.FAILED)
HOUR = timedelta(hours=1)


class Health(StrEnum):
    OK = "ok"
    DRIFTING = "drifting"  # a monitor's alert is open
    FAILING = "failing"  # a monitor's latest finished run failed
    NO_DATA = "no_data"  # no monitor's latest finished run had enough data


class LastRun(BaseModel):
    id: int
    monitor: str
    status: RunStatus
    window_end: datetime
    tested_features: int
    drifted_features: int


class ActiveRollout(BaseModel):
    id: int
    state: RolloutState
    weight: int
    candidate_version: str


class ModelOverview(BaseModel):
    name: str
    task: str
    features: int
    health: Health
    last_run: LastRun | None
    open_alerts: int
    active_rollout: ActiveRollout | None
    traffic: list[int]


class ModelNamesPublic(BaseModel):
    data: list[str]
    count: int


class OverviewPublic(BaseModel):
    data: list[ModelOverview]
    count: int
    traffic_start: datetime
    traffic_hours: int


def _latest_runs(session: Session, model_ids: list[int]) -> dict[int, list[LastRun]]:
    """The latest finished run of every monitor of these models, by model, newest first."""
    rank = func.row_number().over(
        partition_by=col(MonitorRun.monitor_id),
        order_by=(col(MonitorRun.window_end).desc(), col(MonitorRun.id).desc()),
    )
    ranked = (
        select(MonitorRun.id, rank.label("rank"))
        .where(col(MonitorRun.model_id).in_(model_ids))
        .where(col(MonitorRun.status).in_(FINISHED))
        .subquery()
    )
    rows = session.exec(
        select(MonitorRun, Monitor.name)
        .join(Monitor, col(Monitor.id) == MonitorRun.monitor_id)
        .where(col(MonitorRun.id).in_(select(ranked.c.id).where(ranked.c.rank == 1)))
        .order_by(col(MonitorRun.window_end).desc())
    ).all()
    latest: dict[int, list[LastRun]] = {}
    for run, monitor in rows:
        latest.setdefault(run.model_id, []).append(
            LastRun(
                id=run.id,  # type: ignore[arg-type]
                monitor=monitor,
                status=run.status,
                window_end=run.window_end,
                tested_features=run.tested_features,
                drifted_features=run.drifted_features,
            )
        )
    return latest


def _open_alerts(session: Session, model_ids: list[int]) -> dict[int, int]:
    """Monitors whose alert is open (drifting, after hysteresis), by model."""
    rows = session.exec(
        select(DriftState.model_id, func.count())
        .where(col(DriftState.model_id).in_(model_ids))
        .where(DriftState.feature == ALERT)
        .where(DriftState.status == DriftStatus.DRIFTING)
        .group_by(col(DriftState.model_id))
    ).all()
    return dict(rows)


def _active_rollouts(session: Session, model_ids: list[int]) -> dict[int, ActiveRollout]:
    rows = session.exec(
        select(Rollout)
        .where(col(Rollout.model_id).in_(model_ids))
        .where(col(Rollout.state).in_(ACTIVE_STATES))
    ).all()
    return {
        row.model_id: ActiveRollout(
            id=row.id,  # type: ignore[arg-type]
            state=row.state,
            weight=row.weight,
            candidate_version=row.candidate_version,
        )
        for row in rows
    }


def _hour_index(dialect: str, start: datetime) -> ColumnElement[int]:
    """Whole hours from `start` to a record's timestamp, in SQL (the two stores spell it apart)."""
    timestamp = col(InferenceRecord.timestamp)
    if dialect == "sqlite":  # naive UTC text; strftime('%s') reads it as UTC
        seconds = cast(func.strftime("%s", timestamp), Integer) - int(start.timestamp())
        return cast(seconds / 3600, Integer)
    seconds = func.extract("epoch", timestamp) - start.timestamp()
    return cast(func.floor(seconds / 3600), Integer)


def _traffic(
    session: Session, model_ids: list[int], start: datetime, hours: int
) -> dict[int, list[int]]:
    """Records logged per hour since `start`, by model, oldest hour first."""
    hour = _hour_index(session.get_bind().dialect.name, start).label("hour")
    rows = session.exec(
        select(InferenceRecord.model_id, hour, func.count())
        .where(col(InferenceRecord.model_id).in_(model_ids))
        .where(InferenceRecord.timestamp >= start)
        .where(InferenceRecord.timestamp < start + hours * HOUR)
        .group_by(col(InferenceRecord.model_id), hour)
    ).all()
    traffic = {model_id: [0] * hours for model_id in model_ids}
    for model_id, index, count in rows:
        traffic[model_id][int(index)] += count
    return traffic


def _health(latest: list[LastRun], open_alerts: int) -> Health:
    if any(run.status is RunStatus.FAILED for run in latest):
        return Health.FAILING
    if open_alerts:
        return Health.DRIFTING
    if not any(run.status is RunStatus.SUCCEEDED for run in latest):
        return Health.NO_DATA
    return Health.OK


def model_overview(
    *, session: Session, now: datetime, hours: int, offset: int, limit: int
) -> OverviewPublic:
    """A page of models, by name, each with its health and the last `hours` of traffic."""
    count = session.exec(select(func.count()).select_from(RegisteredModel)).one()
    models = session.exec(
        select(RegisteredModel).order_by(col(RegisteredModel.name)).offset(offset).limit(limit)
    ).all()
    ids = [model.id for model in models if model.id is not None]
    start = now.replace(minute=0, second=0, microsecond=0) - (hours - 1) * HOUR
    latest = _latest_runs(session, ids)
    alerts = _open_alerts(session, ids)
    rollouts = _active_rollouts(session, ids)
    traffic = _traffic(session, ids, start, hours)
    data = []
    for model in models:
        assert model.id is not None
        runs = latest.get(model.id, [])
        data.append(
            ModelOverview(
                name=model.name,
                task=model.task,
                features=len(model.features),
                health=_health(runs, alerts.get(model.id, 0)),
                last_run=runs[0] if runs else None,
                open_alerts=alerts.get(model.id, 0),
                active_rollout=rollouts.get(model.id),
                traffic=traffic[model.id],
            )
        )
    return OverviewPublic(data=data, count=count, traffic_start=start, traffic_hours=hours)


def model_names(*, session: Session, offset: int, limit: int) -> ModelNamesPublic:
    """A page of the registered models' names, alphabetically: what pickers and filters list
    (a thousand full models with their schemas are megabytes; their names, kilobytes)."""
    count = session.exec(select(func.count()).select_from(RegisteredModel)).one()
    names = session.exec(
        select(RegisteredModel.name).order_by(col(RegisteredModel.name)).offset(offset).limit(limit)
    ).all()
    return ModelNamesPublic(data=list(names), count=count)
