"""The drift heatmap's data: each column's primary test over a monitor's latest windows."""

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Session, col, select

from monitor.entities.monitor import Monitor
from monitor.entities.run import FeatureResult
from monitor.services.runs import latest_succeeded_runs

DRIFT_ROLES = ("feature", "prediction")  # attribution rows are an importance, not a drift test


class MatrixWindow(BaseModel):
    run_id: int
    window_end: datetime


class MatrixRow(BaseModel):
    """One column's primary test per window (null where the window did not test it): the effect
    size and its floor, and what else decided the verdict, so a reader can tell why a large
    effect did not count: the p-value before and after the Benjamini-Hochberg correction over
    the model's columns, the level it must pass, the window's sample size and the test's note."""

    feature: str
    role: str
    test: str
    values: list[float | None]
    thresholds: list[float | None]
    drifted: list[bool | None]
    p_values: list[float | None]
    adjusted_p_values: list[float | None]
    p_value_thresholds: list[float | None]
    sample_sizes: list[int | None]
    messages: list[str | None]


class DriftMatrix(BaseModel):
    monitor: str
    windows: list[MatrixWindow]
    rows: list[MatrixRow]


def drift_matrix(*, session: Session, monitor: Monitor, windows: int) -> DriftMatrix:
    """Columns by windows, oldest window first, in the order the runs tested the columns."""
    runs = latest_succeeded_runs(session=session, monitor=monitor, windows=windows)
    position = {run.id: index for index, run in enumerate(runs)}
    results = session.exec(
        select(FeatureResult)
        .where(col(FeatureResult.run_id).in_(list(position)))
        .where(col(FeatureResult.role).in_(DRIFT_ROLES))
        .order_by(col(FeatureResult.id))
    ).all()
    rows: dict[str, MatrixRow] = {}
    seen: set[tuple[int, str]] = set()
    for result in results:
        if (result.run_id, result.feature) in seen:
            continue  # the first result of a column in a run is its primary test
        seen.add((result.run_id, result.feature))
        row = rows.setdefault(
            result.feature,
            MatrixRow(
                feature=result.feature,
                role=result.role,
                test=result.test,
                values=[None] * len(runs),
                thresholds=[None] * len(runs),
                drifted=[None] * len(runs),
                p_values=[None] * len(runs),
                adjusted_p_values=[None] * len(runs),
                p_value_thresholds=[None] * len(runs),
                sample_sizes=[None] * len(runs),
                messages=[None] * len(runs),
            ),
        )
        index = position[result.run_id]
        row.values[index] = result.effect_size
        row.thresholds[index] = result.threshold
        row.drifted[index] = result.drifted
        row.p_values[index] = result.p_value
        row.adjusted_p_values[index] = result.adjusted_p_value
        row.p_value_thresholds[index] = result.p_value_threshold
        row.sample_sizes[index] = result.n_cur
        row.messages[index] = result.message
    return DriftMatrix(
        monitor=monitor.name,
        windows=[MatrixWindow(run_id=run.id, window_end=run.window_end) for run in runs],  # type: ignore[arg-type]
        rows=list(rows.values()),
    )
