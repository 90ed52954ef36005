"""Data-quality events: a column's check (never-seen categories, a spike of missing values, values
out of range, type errors) that starts failing raises its own `data_quality.*` event, once, and
`data_quality.resolved` when it passes again; the monitor's previous run says what was already
failing, so a lasting condition is not announced every window."""

from typing import Any

from sqlmodel import Session, col, select

from detectors import DatasetDriftReport, QualityResult
from monitor.entities.event import EventType, Severity
from monitor.entities.monitor import Monitor
from monitor.entities.registered_model import RegisteredModel
from monitor.entities.run import MonitorRun, QualityCheck, RunStatus
from monitor.services.events import record_event

EVENT_OF_CHECK = {
    "new_category": EventType.DATA_QUALITY_NEW_CATEGORY,
    "missing": EventType.DATA_QUALITY_MISSING_VALUES,
    "out_of_range": EventType.DATA_QUALITY_OUT_OF_RANGE,
    "type_error": EventType.DATA_QUALITY_TYPE_ERRORS,
}


def _failing_before(session: Session, run: MonitorRun) -> set[tuple[str, str]]:
    """(column, check) that failed in the monitor's previous judged window of the same version."""
    version = col(MonitorRun.model_version)
    previous = session.exec(
        select(MonitorRun.id)
        .where(MonitorRun.monitor_id == run.monitor_id)
        .where(MonitorRun.status == RunStatus.SUCCEEDED)
        .where(MonitorRun.window_end < run.window_end)
        .where(version.is_(None) if run.model_version is None else version == run.model_version)
        .order_by(col(MonitorRun.window_end).desc(), col(MonitorRun.id).desc())
        .limit(1)
    ).first()
    if previous is None:
        return set()
    rows = session.exec(
        select(QualityCheck.feature, QualityCheck.check)
        .where(QualityCheck.run_id == previous)
        .where(col(QualityCheck.failed))
    ).all()
    return {(feature, check) for feature, check in rows}


def record_data_quality_events(
    session: Session,
    *,
    run: MonitorRun,
    monitor: Monitor,
    model: RegisteredModel,
    reports: dict[str, DatasetDriftReport],
) -> None:
    """Raise an event for each check that fails now but did not in the previous window, and a
    resolution for each that failed then and passes now. `reports` are keyed by role."""
    before = _failing_before(session, run)
    for role, report in reports.items():
        for feature in report.features:
            for check in feature.quality:
                key = (check.feature, check.check)
                if check.failed and key not in before:
                    _record(session, run, monitor, model, role, check, EVENT_OF_CHECK[check.check])
                elif not check.failed and key in before:
                    _record(
                        session, run, monitor, model, role, check, EventType.DATA_QUALITY_RESOLVED
                    )


def _record(
    session: Session,
    run: MonitorRun,
    monitor: Monitor,
    model: RegisteredModel,
    role: str,
    check: QualityResult,
    type: EventType,
) -> None:
    record_event(
        session,
        type=type,
        severity=Severity.INFO if type is EventType.DATA_QUALITY_RESOLVED else Severity.WARNING,
        model=model,
        monitor_id=monitor.id,
        dedup_key=f"{model.name}/{monitor.name}/data_quality/{check.feature}/{check.check}",
        data=_event_data(run, monitor, role, check),
    )


def _event_data(
    run: MonitorRun, monitor: Monitor, role: str, check: QualityResult
) -> dict[str, Any]:
    return {
        "monitor": monitor.name,
        "run_id": run.id,
        "model_version": run.model_version,
        "window": {"start": run.window_start.isoformat(), "end": run.window_end.isoformat()},
        "column": check.feature,
        "role": role,
        "check": check.check,
        "count": check.count,
        "n_rows": check.n_rows,
        "share": check.share,
        "threshold": check.threshold,
        # Already escaped (repr) and capped by the detector: at most 5 values of 40 characters.
        "examples": list(check.examples),
        "message": check.message,
    }
