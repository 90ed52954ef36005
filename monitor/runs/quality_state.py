"""Storing a window's quality (one row per metric, replaced in place on re-evaluation) and
settling the monitor's quality state, whose transitions are the `model_quality.*` events.

The state is replayed from the stored window verdicts in window order every time a window
changes, so a window re-judged as late labels arrive moves the state exactly as if its final
figures had been known at once, and an unchanged verdict changes nothing: no duplicate events.
"""

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, cast, delete, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from detectors import MultivariateDriftResult
from monitor.entities.drift_state import DriftStatus
from monitor.entities.event import EventType, Severity
from monitor.entities.monitor import Hysteresis, Monitor
from monitor.entities.quality import MultivariateResult, QualityResult, QualityState, QualityStatus
from monitor.entities.registered_model import RegisteredModel
from monitor.entities.run import MonitorRun
from monitor.runs.hysteresis import Streaks, advance
from monitor.runs.quality import MetricQuality, WindowQuality
from monitor.services.events import record_event
from monitor.store.types import utc_now
from monitor.windows.reader import Window

# Verdicts replayed to settle the state: enough for any hysteresis (at most 100 windows in a row).
REPLAYED_WINDOWS = 1_000

_result = QualityResult.__table__  # type: ignore[attr-defined]
# Refreshed on re-evaluation; the identity columns and `label_revision` (owned by ingestion) stay.
_REPLACED = (
    "run_id",
    "model_version",
    "reference_id",
    "window_start",
    "first_record_at",
    "last_record_at",
    "realized",
    "realized_low",
    "realized_high",
    "estimated",
    "estimated_low",
    "estimated_high",
    "reference",
    "lower_bound",
    "upper_bound",
    "n_records",
    "n_labelled",
    "label_coverage",
    "judged",
    "degraded",
    "estimated_degraded",
    "message",
    "evaluated_at",
)


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def _metric_columns(metric: MetricQuality) -> dict[str, Any]:
    realized, estimated = metric.realized, metric.estimated
    messages = [realized.message]
    if estimated is not None and estimated.message:
        messages.append(f"estimate: {estimated.message}")
    return {
        "metric": realized.metric,
        "realized": _finite(realized.value),
        "realized_low": _finite(realized.ci_low),
        "realized_high": _finite(realized.ci_high),
        "estimated": _finite(estimated.value) if estimated else None,
        "estimated_low": _finite(estimated.ci_low) if estimated else None,
        "estimated_high": _finite(estimated.ci_high) if estimated else None,
        "reference": realized.reference,
        "lower_bound": realized.lower_bound,
        "upper_bound": realized.upper_bound,
        "n_labelled": realized.n_labelled,
        "label_coverage": realized.label_completeness,
        "judged": metric.judged,
        "degraded": realized.degraded,
        "estimated_degraded": bool(estimated and estimated.degraded),
        "message": "; ".join(m for m in messages if m) or None,
    }


@dataclass(frozen=True, slots=True)
class Judged:
    """Which run judged a window, the version it judged and the reference it judged against."""

    run_id: int | None
    model_version: str | None
    reference_id: int | None


def store_quality(
    session: Session,
    *,
    monitor: Monitor,
    model: RegisteredModel,
    window: Window,
    quality: WindowQuality,
    judged: Judged,
) -> None:
    """Upsert the window's rows (metrics no longer judged are dropped), then settle the state;
    the caller commits. A row stays stale if labels arrived after its labels were read."""
    shared = {
        "monitor_id": monitor.id,
        "model_id": monitor.model_id,
        "run_id": judged.run_id,
        "model_version": judged.model_version,
        "reference_id": judged.reference_id,
        "window_start": window.start,
        "window_end": window.end,
        "n_records": quality.n_records,
        "first_record_at": quality.first_record_at,
        "last_record_at": quality.last_record_at,
        "evaluated_at": utc_now(),
        "label_revision": 0,
        "stale": False,
    }
    rows = [{**shared, **_metric_columns(metric)} for metric in quality.metrics]
    connection = session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(_result)
    connection.execute(
        insert.on_conflict_do_update(
            index_elements=["monitor_id", "window_end", "metric"],
            set_={
                **{name: insert.excluded[name] for name in _REPLACED},
                "stale": _result.c.label_revision > quality.label_revision,
            },
        ),
        rows,
    )
    connection.execute(
        delete(_result)
        .where(_result.c.monitor_id == monitor.id)
        .where(_result.c.window_end == window.end)
        .where(_result.c.metric.not_in([row["metric"] for row in rows]))
    )
    settle_quality(session, monitor=monitor, model=model, model_version=judged.model_version)


def _window_verdicts(
    session: Session, monitor_id: int, model_version: str | None
) -> list[tuple[datetime, bool]]:
    """(window end, degraded) of the version's judged windows, oldest first, the latest only."""
    degraded = func.max(cast(QualityResult.degraded, Integer))
    judged = func.max(cast(QualityResult.judged, Integer))
    version = col(QualityResult.model_version)
    rows = session.exec(
        select(QualityResult.window_end, degraded)
        .where(QualityResult.monitor_id == monitor_id)
        .where(version.is_(None) if model_version is None else version == model_version)
        .group_by(col(QualityResult.window_end))
        .having(judged > 0)
        .order_by(col(QualityResult.window_end).desc())
        .limit(REPLAYED_WINDOWS)
    ).all()
    return [(end, bool(flag)) for end, flag in reversed(rows)]


def _replay(
    verdicts: list[tuple[datetime, bool]], hysteresis: Hysteresis
) -> tuple[QualityStatus, datetime]:
    """The settled status after the verdicts (at least one), and the window end where it last
    changed (the latest window when it never did)."""
    streaks, changed_at = Streaks(DriftStatus.OK), verdicts[-1][0]
    for end, degraded in verdicts:
        # The shared hysteresis: DriftStatus.DRIFTING stands for degraded here.
        streaks, transition = advance(
            streaks,
            degraded,
            onset_after=hysteresis.onset_after,
            resolve_after=hysteresis.resolve_after,
        )
        if transition is not None:
            changed_at = end
    drifting = streaks.status is DriftStatus.DRIFTING
    return (QualityStatus.DEGRADED if drifting else QualityStatus.OK), changed_at


def quality_state(session: Session, monitor: Monitor) -> QualityState:
    """The monitor's quality state, locked for the transaction (a new one if it has none)."""
    return session.exec(
        select(QualityState).where(QualityState.monitor_id == monitor.id).with_for_update()
    ).first() or QualityState(monitor_id=monitor.id, model_id=monitor.model_id)  # type: ignore[arg-type]


def settle_quality(
    session: Session, *, monitor: Monitor, model: RegisteredModel, model_version: str | None
) -> None:
    """Replay the version's judged windows through the monitor's quality hysteresis and record
    a `model_quality.degraded` or `.recovered` event when the settled status changes. A window
    of a version the state no longer follows (re-judged after a promotion) moves nothing."""
    state = quality_state(session, monitor)
    if state.id is not None and state.model_version not in (None, model_version):
        return
    state.model_version = model_version
    verdicts = _window_verdicts(session, monitor.id, model_version)  # type: ignore[arg-type]
    if not verdicts:
        if state.id is not None:
            session.add(state)
        return
    status, deciding = _replay(verdicts, monitor.settings.quality.hysteresis)
    if status == state.status:
        return
    state.status = status
    state.since = deciding
    state.updated_at = utc_now()
    session.add(state)
    degraded = status is QualityStatus.DEGRADED
    record_event(
        session,
        type=EventType.MODEL_QUALITY_DEGRADED if degraded else EventType.MODEL_QUALITY_RECOVERED,
        severity=Severity.CRITICAL if degraded else Severity.INFO,
        model=model,
        monitor_id=monitor.id,
        dedup_key=f"{model.name}/{monitor.name}/model_quality",
        data=_event_data(session, monitor, deciding, degraded),
    )


def _event_data(
    session: Session, monitor: Monitor, window_end: datetime, degraded: bool
) -> dict[str, Any]:
    """The deciding window's figures: the headline metric (the first degraded one, or the first
    judged one on recovery) and every metric beside it."""
    rows = session.exec(
        select(QualityResult)
        .where(QualityResult.monitor_id == monitor.id)
        .where(QualityResult.window_end == window_end)
        .order_by(col(QualityResult.id))
    ).all()
    headline = next(r for r in rows if (r.degraded if degraded else r.judged))
    return {
        "monitor": monitor.name,
        **_figures(headline),
        "coverage": headline.label_coverage,
        "n_labelled": headline.n_labelled,
        "n_records": headline.n_records,
        "window": {"start": headline.window_start.isoformat(), "end": window_end.isoformat()},
        "degraded_metrics": [r.metric for r in rows if r.degraded],
        "metrics": [{**_figures(r), "degraded": r.degraded} for r in rows if r.judged],
    }


def _figures(row: QualityResult) -> dict[str, Any]:
    return {
        "metric": row.metric,
        "realized": row.realized,
        "interval": [row.realized_low, row.realized_high],
        "reference": row.reference,
        "bound": row.lower_bound if row.lower_bound is not None else row.upper_bound,
    }


def multivariate_row(
    run: MonitorRun, window: Window, result: MultivariateDriftResult
) -> MultivariateResult:
    return MultivariateResult(
        run_id=run.id,  # type: ignore[arg-type]
        monitor_id=run.monitor_id,
        model_version=run.model_version,
        window_start=window.start,
        window_end=window.end,
        method=result.method,
        statistic=_finite(result.statistic),
        reference=result.reference,
        threshold=_finite(result.threshold),
        drifted=result.drifted,
        n_ref=result.n_ref,
        n_cur=result.n_cur,
        components=result.components,
        message=result.message,
    )
