"""Re-baselining: when the version a monitor judges changes (a promotion, a rollback to an older
champion, an alias moved by hand), its streaks do not carry over. The drift and quality states
restart from the new version's reference, with a `monitor.rebaselined` event, and an open drift
or quality incident is closed because its baseline is gone, not because the model recovered."""

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from monitor.entities.drift_state import ALERT, DriftState, DriftStatus
from monitor.entities.event import EventType, Severity
from monitor.entities.monitor import Monitor
from monitor.entities.quality import QualityStatus
from monitor.entities.registered_model import RegisteredModel
from monitor.entities.run import MonitorRun
from monitor.runs.quality_state import quality_state
from monitor.services.events import record_event
from monitor.store.types import utc_now


def baseline_changed(session: Session, run: MonitorRun, alert: DriftState | None) -> bool:
    """Whether `run` judges another version than the monitor's last judged run did. A first run
    has nothing to change from; a state that predates versions (None) only learns its version,
    unless the reference changed with it."""
    if alert is None or alert.model_version == run.model_version:
        return False
    if alert.model_version is not None:
        return True
    last = session.get(MonitorRun, alert.last_run_id) if alert.last_run_id else None
    return last is None or last.reference_id != run.reference_id


def _describe(old: str | None, new: str | None) -> str:
    return f"version {new or 'unversioned'} replaced version {old or 'unversioned'}"


def rebaseline(
    session: Session,
    *,
    run: MonitorRun,
    monitor: Monitor,
    model: RegisteredModel,
    states: dict[str, DriftState],
) -> None:
    """Close what the old baseline opened, restart every streak and announce the switch, in
    the caller's transaction."""
    alert = states[ALERT]
    last = session.get(MonitorRun, alert.last_run_id) if alert.last_run_id else None
    switch = _Switch(session, run, monitor, model, alert.model_version, last)
    switch.announce(EventType.MONITOR_REBASELINED, "rebaselined")
    if alert.status == DriftStatus.DRIFTING:
        resolved = sorted(
            column
            for column, state in states.items()
            if column != ALERT and state.status == DriftStatus.DRIFTING
        )
        # The incident's own dedup key, so receivers (PagerDuty) close it.
        switch.announce(EventType.DRIFT_RESOLVED, None, drifting=[], resolved=resolved, results=[])
    quality = quality_state(session, monitor)
    if quality.id is not None:
        if quality.status == QualityStatus.DEGRADED:
            switch.announce(EventType.MODEL_QUALITY_RECOVERED, "model_quality")
        quality.status = QualityStatus.OK
        quality.model_version = run.model_version
        quality.since = run.window_end
        quality.updated_at = utc_now()
        session.add(quality)
    for state in states.values():
        state.status = DriftStatus.OK
        state.drifted_streak = state.clean_streak = 0
        state.model_version = run.model_version
        state.since = run.window_end
        state.updated_at = utc_now()
        session.add(state)


@dataclass(frozen=True, slots=True)
class _Switch:
    """One change of baseline, and the events that announce it."""

    session: Session
    run: MonitorRun
    monitor: Monitor
    model: RegisteredModel
    old_version: str | None
    last: MonitorRun | None

    def announce(self, type: EventType, topic: str | None, **extra: Any) -> None:
        """Record `type` under the monitor's dedup key (`/<topic>` appended when given)."""
        run, monitor, model = self.run, self.monitor, self.model
        reason = (
            f"baseline changed: {_describe(self.old_version, run.model_version)}; windows are "
            f"judged against reference {run.reference_id} from {run.window_end.isoformat()} on"
        )
        record_event(
            self.session,
            type=type,
            severity=Severity.INFO,
            model=model,
            monitor_id=monitor.id,
            dedup_key=f"{model.name}/{monitor.name}" + (f"/{topic}" if topic else ""),
            data={
                "monitor": monitor.name,
                "run_id": run.id,
                "old_version": self.old_version,
                "new_version": run.model_version,
                "reference_id": run.reference_id,
                "previous_reference_id": self.last.reference_id if self.last else None,
                "window_end": run.window_end.isoformat(),
                "reason": reason,
                **extra,
            },
        )
