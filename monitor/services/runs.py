"""Queueing runs and querying what they found."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from monitor.entities.drift_state import ALERT, DriftState, DriftStatus
from monitor.entities.monitor import Monitor
from monitor.entities.registered_model import RegisteredModel
from monitor.entities.run import (
    ONE_RUN_PER_WINDOW,
    FeatureResult,
    MonitorRun,
    QualityCheck,
    RunReport,
    RunStatus,
    RunTrigger,
)
from monitor.entities.run_views import (
    DriftStatePublic,
    FeatureResultPublic,
    MonitorDriftState,
    QualityCheckPublic,
    RunDetail,
    RunPublic,
    SeriesPoint,
    StatisticSeries,
)
from monitor.runs.window_frames import window_for
from monitor.services.errors import NotFound
from monitor.services.quality import run_multivariate


class SeriesField(StrEnum):
    STATISTIC = "statistic"
    EFFECT_SIZE = "effect_size"
    P_VALUE = "p_value"
    ADJUSTED_P_VALUE = "adjusted_p_value"


def runs_holding_windows(
    *, session: Session, monitor_id: int, window_ends: list[datetime]
) -> dict[datetime, int]:
    """The scheduled or backfilled run already holding each of these window ends, by end."""
    rows = session.exec(
        select(MonitorRun.window_end, MonitorRun.id)
        .where(MonitorRun.monitor_id == monitor_id)
        .where(col(MonitorRun.trigger).in_(ONE_RUN_PER_WINDOW))
        .where(col(MonitorRun.window_end).in_(window_ends))
    ).all()
    return {end: run_id for end, run_id in rows if run_id is not None}


def queue_runs(
    *, session: Session, monitor: Monitor, window_ends: list[datetime], trigger: RunTrigger
) -> tuple[list[int], int]:
    """Queue runs for the scheduler to execute, oldest window first: their ids, and how many of
    them were already queued or run (a scheduled or backfilled window is run once)."""
    keyed = trigger in ONE_RUN_PER_WINDOW
    try:
        return _queue_missing(session, monitor, window_ends, trigger, keyed=keyed)
    except IntegrityError:
        session.rollback()
        if not keyed:
            raise
        # Another request queued some of these windows meanwhile: read them, queue the rest.
        return _queue_missing(session, monitor, window_ends, trigger, keyed=keyed)


def _queue_missing(
    session: Session,
    monitor: Monitor,
    window_ends: list[datetime],
    trigger: RunTrigger,
    *,
    keyed: bool,
) -> tuple[list[int], int]:
    monitor_id: int = monitor.id  # type: ignore[assignment]
    held = (
        runs_holding_windows(session=session, monitor_id=monitor_id, window_ends=window_ends)
        if keyed
        else {}
    )
    queued: dict[datetime, MonitorRun] = {}
    for end in window_ends:
        if end in held or end in queued:
            continue
        window = window_for(monitor.settings, end)
        queued[end] = MonitorRun(
            monitor_id=monitor_id,
            model_id=monitor.model_id,
            status=RunStatus.QUEUED,
            trigger=trigger,
            window_start=window.start,
            window_end=window.end,
        )
    session.add_all(queued.values())
    session.commit()
    ids = [held[end] if end in held else queued[end].id for end in window_ends]
    return ids, len(window_ends) - len(queued)  # type: ignore[return-value]


def list_runs(
    *,
    session: Session,
    model: RegisteredModel | None,
    monitor: Monitor | None = None,
    status: RunStatus | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[MonitorRun], int]:
    query = select(MonitorRun)
    if model is not None:
        query = query.where(MonitorRun.model_id == model.id)
    if monitor is not None:
        query = query.where(MonitorRun.monitor_id == monitor.id)
    if status is not None:
        query = query.where(MonitorRun.status == status)
    if since is not None:
        query = query.where(MonitorRun.window_end >= since)
    if until is not None:
        query = query.where(MonitorRun.window_end < until)
    count = session.exec(select(func.count()).select_from(query.subquery())).one()
    runs = session.exec(
        query.order_by(col(MonitorRun.window_end).desc(), col(MonitorRun.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return list(runs), count


def latest_succeeded_runs(*, session: Session, monitor: Monitor, windows: int) -> list[MonitorRun]:
    """The monitor's succeeded runs of its latest `windows` windows, oldest window first."""
    return list(
        session.exec(
            select(MonitorRun)
            .where(MonitorRun.monitor_id == monitor.id)
            .where(MonitorRun.status == RunStatus.SUCCEEDED)
            .order_by(col(MonitorRun.window_end).desc(), col(MonitorRun.id).desc())
            .limit(windows)
        ).all()
    )[::-1]


def get_run(*, session: Session, model: RegisteredModel, run_id: int) -> RunDetail:
    run = session.get(MonitorRun, run_id)
    if run is None or run.model_id != model.id:
        raise NotFound(f"model {model.name!r} has no run {run_id}")
    results = session.exec(
        select(FeatureResult).where(FeatureResult.run_id == run_id).order_by(col(FeatureResult.id))
    ).all()
    quality = session.exec(
        select(QualityCheck).where(QualityCheck.run_id == run_id).order_by(col(QualityCheck.id))
    ).all()
    return RunDetail(
        **RunPublic.model_validate(run).model_dump(),
        results=[FeatureResultPublic.model_validate(r) for r in results],
        quality=[QualityCheckPublic.model_validate(q) for q in quality],
        multivariate=run_multivariate(session=session, run_id=run_id),
        has_report=session.get(RunReport, run_id) is not None,
    )


def run_report(*, session: Session, model: RegisteredModel, run_id: int) -> str:
    get_run(session=session, model=model, run_id=run_id)
    report = session.get(RunReport, run_id)
    if report is None:
        raise NotFound(
            f"run {run_id} has no report; set store_report on the monitor to keep Evidently's"
        )
    return report.html


def drift_states(*, session: Session, model: RegisteredModel) -> list[MonitorDriftState]:
    monitors = session.exec(select(Monitor).where(Monitor.model_id == model.id)).all()
    rows = session.exec(select(DriftState).where(DriftState.model_id == model.id)).all()
    states = []
    for monitor in sorted(monitors, key=lambda m: m.name):
        mine = [row for row in rows if row.monitor_id == monitor.id]
        alert = next((row for row in mine if row.feature == ALERT), None)
        states.append(
            MonitorDriftState(
                monitor=monitor.name,
                model_version=alert.model_version if alert else None,
                status=alert.status if alert else DriftStatus.OK,
                since=alert.since if alert else None,
                features=[
                    DriftStatePublic.model_validate(row)
                    for row in sorted(mine, key=lambda r: r.feature)
                    if row.feature != ALERT
                ],
            )
        )
    return states


def _threshold(row: FeatureResult, field: SeriesField) -> float | None:
    """The bound that applies to `field`: effect sizes meet `threshold`, p-values theirs; a raw
    statistic only when it is itself the effect size (not e.g. chi-squared's Pearson sum)."""
    if field is SeriesField.EFFECT_SIZE:
        return row.threshold
    if field is SeriesField.STATISTIC:
        return row.threshold if row.statistic == row.effect_size else None
    return row.p_value_threshold


def statistic_series(
    *,
    session: Session,
    monitor: Monitor,
    feature: str,
    test: str | None,
    field: SeriesField,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> StatisticSeries:
    query = (
        select(FeatureResult)
        .where(FeatureResult.monitor_id == monitor.id)
        .where(FeatureResult.feature == feature)
    )
    if test is not None:
        query = query.where(FeatureResult.test == test)
    if since is not None:
        query = query.where(FeatureResult.window_end >= since)
    if until is not None:
        query = query.where(FeatureResult.window_end < until)
    rows = list(
        session.exec(query.order_by(col(FeatureResult.window_end).desc()).limit(limit)).all()
    )
    if not rows:
        raise NotFound(f"monitor {monitor.name!r} has no results for {feature!r} in that range")
    latest = [row for row in rows if row.run_id == rows[0].run_id]
    chosen = test or min(latest, key=lambda row: row.id or 0).test  # the primary test
    rows = [row for row in reversed(rows) if row.test == chosen]
    return StatisticSeries(
        feature=feature,
        test=chosen,
        field=field.value,
        points=[
            SeriesPoint(
                run_id=row.run_id,
                window_end=row.window_end,
                model_version=row.model_version,
                value=getattr(row, field.value),
                threshold=_threshold(row, field),
                drifted=row.drifted,
            )
            for row in rows
        ],
    )
