"""Reading model quality and multivariate drift back, per window of a monitor."""

from datetime import datetime

from sqlmodel import Session, col, select

from monitor.entities.monitor import Monitor
from monitor.entities.quality import (
    MultivariatePoint,
    MultivariateResult,
    MultivariateSeries,
    QualityPoint,
    QualityResult,
    QualitySeries,
)


def quality_series(
    *, session: Session, monitor: Monitor, start: datetime | None, end: datetime | None
) -> QualitySeries:
    """Each window's metrics (window end in [start, end)), oldest window first."""
    query = select(QualityResult).where(QualityResult.monitor_id == monitor.id)
    if start is not None:
        query = query.where(QualityResult.window_end >= start)
    if end is not None:
        query = query.where(QualityResult.window_end < end)
    rows = session.exec(query.order_by(col(QualityResult.window_end), col(QualityResult.id))).all()
    return QualitySeries(data=[QualityPoint.model_validate(r) for r in rows], count=len(rows))


def multivariate_series(
    *, session: Session, monitor: Monitor, start: datetime | None, end: datetime | None
) -> MultivariateSeries:
    """Each run's multivariate verdict (window end in [start, end)), oldest window first."""
    query = select(MultivariateResult).where(MultivariateResult.monitor_id == monitor.id)
    if start is not None:
        query = query.where(MultivariateResult.window_end >= start)
    if end is not None:
        query = query.where(MultivariateResult.window_end < end)
    rows = session.exec(
        query.order_by(col(MultivariateResult.window_end), col(MultivariateResult.run_id))
    ).all()
    return MultivariateSeries(
        data=[MultivariatePoint.model_validate(r) for r in rows], count=len(rows)
    )


def run_multivariate(*, session: Session, run_id: int) -> MultivariatePoint | None:
    row = session.get(MultivariateResult, run_id)
    return None if row is None else MultivariatePoint.model_validate(row)
