"""Persisting a run's outcome in one transaction: the run, its results, the drift state and
the events that state changes cause."""

import math
from typing import Any

from sqlmodel import Session, select

from detectors import DatasetDriftReport, DriftResult
from detectors.attribution import AttributionDriftResult
from monitor.entities.drift_state import ALERT, DriftState, DriftStatus
from monitor.entities.event import EventType, Severity
from monitor.entities.monitor import Monitor
from monitor.entities.registered_model import RegisteredModel
from monitor.entities.run import FeatureResult, MonitorRun, QualityCheck, RunReport, RunStatus
from monitor.runs.attribution import ATTRIBUTION
from monitor.runs.data_quality import record_data_quality_events
from monitor.runs.hysteresis import Streaks, Transition, advance
from monitor.runs.outcome import RunOutcome
from monitor.runs.quality_state import Judged, multivariate_row, store_quality
from monitor.runs.rebaseline import baseline_changed, rebaseline
from monitor.services.events import record_event
from monitor.store.types import utc_now
from monitor.windows.reader import Window


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def _result_row(run: MonitorRun, role: str, result: DriftResult) -> FeatureResult:
    return FeatureResult(
        run_id=run.id,  # type: ignore[arg-type]
        monitor_id=run.monitor_id,
        window_end=run.window_end,
        model_version=run.model_version,
        feature=result.feature,
        role=role,
        test=result.test,
        method=result.method,
        statistic=_finite(result.statistic),
        effect_size=_finite(result.effect_size),
        p_value=_finite(result.p_value),
        adjusted_p_value=_finite(result.adjusted_p_value),
        threshold=result.threshold,
        p_value_threshold=result.p_value_threshold,
        drifted=result.drifted,
        n_ref=result.n_ref,
        n_cur=result.n_cur,
        new_categories=list(result.new_categories),
        message=result.message,
    )


def _add_report(session: Session, run: MonitorRun, role: str, report: DatasetDriftReport) -> None:
    for feature in report.features:
        for result in feature.results:
            session.add(_result_row(run, role, result))
        for check in feature.quality:
            session.add(
                QualityCheck(
                    run_id=run.id,  # type: ignore[arg-type]
                    feature=check.feature,
                    check=check.check,
                    count=check.count,
                    n_rows=check.n_rows,
                    share=check.share,
                    threshold=check.threshold,
                    failed=check.failed,
                    message=check.message,
                )
            )


def _add_attribution(
    session: Session, run: MonitorRun, attribution: AttributionDriftResult
) -> DriftResult:
    """The NDCG verdict, and each feature's importance shift beside it; returns the verdict."""
    verdict = DriftResult(
        feature=ATTRIBUTION,
        test="shap_ndcg",
        method=attribution.explainer,
        statistic=attribution.ndcg,
        effect_size=attribution.ndcg,
        p_value=None,
        adjusted_p_value=None,
        threshold=attribution.threshold,
        p_value_threshold=None,
        drifted=attribution.drifted,
        n_ref=attribution.n_ref,
        n_cur=attribution.n_cur,
        message=attribution.message,
    )
    session.add(_result_row(run, "attribution", verdict))
    for shift in attribution.shifts:
        row = _result_row(run, "attribution", verdict)
        row.feature = shift.feature
        row.test = "mean_abs_shap"
        row.statistic = _finite(shift.current_importance)
        row.effect_size = _finite(shift.shift)
        row.threshold = None
        row.drifted = False
        row.message = (
            f"importance rank {shift.baseline_rank} in the reference, {shift.current_rank} now"
        )
        session.add(row)
    return verdict


def _states(session: Session, monitor_id: int) -> dict[str, DriftState]:
    rows = session.exec(select(DriftState).where(DriftState.monitor_id == monitor_id)).all()
    return {row.feature: row for row in rows}


def _advance_state(
    session: Session,
    states: dict[str, DriftState],
    run: MonitorRun,
    column: str,
    drifted: bool,
    monitor: Monitor,
) -> Transition | None:
    row = states.get(column) or DriftState(
        monitor_id=run.monitor_id, model_id=run.model_id, feature=column
    )
    row.model_version = run.model_version
    settled, transition = advance(
        Streaks(DriftStatus(row.status), row.drifted_streak, row.clean_streak),
        drifted,
        onset_after=monitor.settings.hysteresis.onset_after,
        resolve_after=monitor.settings.hysteresis.resolve_after,
    )
    if transition is not None:
        row.since = run.window_end
    row.status = settled.status
    row.drifted_streak = settled.drifted_streak
    row.clean_streak = settled.clean_streak
    row.last_run_id = run.id
    row.updated_at = utc_now()
    session.add(row)
    states[column] = row
    return transition


def _drift_summary(
    run: MonitorRun,
    monitor: Monitor,
    verdicts: dict[str, tuple[str, DriftResult]],
    states: dict[str, DriftState],
) -> dict[str, Any]:
    drifting = sorted(
        c for c, s in states.items() if c != ALERT and s.status == DriftStatus.DRIFTING
    )
    return {
        "monitor": monitor.name,
        "run_id": run.id,
        "model_version": run.model_version,
        "reference_id": run.reference_id,
        "window": {"start": run.window_start.isoformat(), "end": run.window_end.isoformat()},
        "rows": run.rows,
        "drifting": drifting,
        "results": [
            {
                "column": column,
                "role": role,
                "test": result.test,
                "statistic": _finite(result.effect_size),
                "threshold": result.threshold,
                "p_value": _finite(result.adjusted_p_value),
                "drifted": result.drifted,
            }
            for column, (role, result) in sorted(verdicts.items())
            if column in drifting or result.drifted
        ],
    }


def persist_outcome(session: Session, run_id: int, outcome: RunOutcome) -> MonitorRun:
    run = session.get_one(MonitorRun, run_id, with_for_update=True)
    if run.status != RunStatus.RUNNING:
        return run  # the sweeper failed it meanwhile; its results are not trusted
    run.model_version = outcome.model_version
    run.reference_id = outcome.reference_id
    run.rows = outcome.rows
    run.load_seconds = outcome.load_seconds
    run.compute_seconds = outcome.compute_seconds
    run.finished_at = utc_now()
    if outcome.features is None or outcome.outputs is None:
        run.status = RunStatus.NOT_ENOUGH_DATA
        session.add(run)
        session.commit()
        return run
    monitor = session.get_one(Monitor, run.monitor_id)
    model = session.get_one(RegisteredModel, run.model_id)
    run.status = RunStatus.SUCCEEDED
    run.tested_features = len(outcome.features.features)
    run.drifted_features = len(outcome.features.drifted_features)
    run.dataset_drifted = outcome.features.drifted
    run.quality_failed = outcome.features.quality_failed or outcome.outputs.quality_failed
    session.add(run)
    _add_report(session, run, "feature", outcome.features)
    _add_report(session, run, "prediction", outcome.outputs)
    record_data_quality_events(
        session,
        run=run,
        monitor=monitor,
        model=model,
        reports={"feature": outcome.features, "prediction": outcome.outputs},
    )
    if outcome.report_html is not None:
        session.add(RunReport(run_id=run.id, html=outcome.report_html))  # type: ignore[arg-type]
    window = Window(start=run.window_start, end=run.window_end)
    if outcome.multivariate is not None:
        session.add(multivariate_row(run, window, outcome.multivariate))
    if outcome.quality is not None:
        store_quality(
            session,
            monitor=monitor,
            model=model,
            window=window,
            quality=outcome.quality,
            judged=Judged(run.id, run.model_version, run.reference_id),  # type: ignore[arg-type]
        )
    verdicts = {
        f.feature: (role, f.primary)
        for role, report in (("feature", outcome.features), ("prediction", outcome.outputs))
        for f in report.features
    }
    if outcome.attribution is not None:
        verdicts[ATTRIBUTION] = ("attribution", _add_attribution(session, run, outcome.attribution))
    states = _states(session, run.monitor_id)
    if baseline_changed(session, run, states.get(ALERT)):
        rebaseline(session, run=run, monitor=monitor, model=model, states=states)
    for column, (_, result) in verdicts.items():
        _advance_state(session, states, run, column, result.drifted, monitor)
    any_drifting = any(s.status == DriftStatus.DRIFTING for c, s in states.items() if c != ALERT)
    alert = states.get(ALERT)
    was_drifting = alert is not None and alert.status == DriftStatus.DRIFTING
    # The monitor-level alert follows its columns' settled states (hysteresis already applied).
    _settle_alert(session, states, run, any_drifting)
    event = _alert_event(was_drifting, any_drifting)
    if event is not None:
        severe = outcome.features.drifted or any(
            role == "prediction" and result.drifted for role, result in verdicts.values()
        )
        record_event(
            session,
            type=event,
            severity=Severity.CRITICAL
            if event == EventType.DRIFT_DETECTED and severe
            else _SEVERITY[event],
            model=model,
            monitor_id=monitor.id,
            dedup_key=f"{model.name}/{monitor.name}",
            data=_drift_summary(run, monitor, verdicts, states),
        )
    session.commit()
    session.refresh(run)
    return run


_SEVERITY = {
    EventType.DRIFT_DETECTED: Severity.WARNING,
    EventType.DRIFT_ONGOING: Severity.WARNING,
    EventType.DRIFT_RESOLVED: Severity.INFO,
}


def _alert_event(was_drifting: bool, drifting: bool) -> EventType | None:
    if drifting:
        return EventType.DRIFT_ONGOING if was_drifting else EventType.DRIFT_DETECTED
    return EventType.DRIFT_RESOLVED if was_drifting else None


def _settle_alert(
    session: Session, states: dict[str, DriftState], run: MonitorRun, drifting: bool
) -> None:
    row = states.get(ALERT) or DriftState(
        monitor_id=run.monitor_id, model_id=run.model_id, feature=ALERT
    )
    row.model_version = run.model_version
    status = DriftStatus.DRIFTING if drifting else DriftStatus.OK
    if row.status != status or row.id is None:
        row.since = run.window_end
    row.status = status
    row.last_run_id = run.id
    row.updated_at = utc_now()
    session.add(row)
    states[ALERT] = row
