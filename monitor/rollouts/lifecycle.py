"""Moving a rollout from one state to another: the rollout row, its transition, the routing and
the event are written together, in the caller's transaction."""

from datetime import datetime
from typing import Any

from sqlmodel import Session

from monitor.entities.event import EventType, Severity
from monitor.entities.registered_model import RegisteredModel
from monitor.entities.rollout import ACTIVE_STATES, Rollout, RolloutState, RolloutTransition
from monitor.services.events import record_event
from monitor.services.routing import rebuild_routing

_SEVERITY = {
    EventType.ROLLOUT_PAUSED: Severity.WARNING,
    EventType.ROLLOUT_ABORTED: Severity.WARNING,
    EventType.ROLLOUT_ROLLED_BACK: Severity.ERROR,
}


def transition(
    session: Session,
    rollout: Rollout,
    model: RegisteredModel,
    *,
    state: RolloutState,
    weight: int,
    reason: str,
    now: datetime,
    event: EventType | None,
    data: dict[str, Any] | None = None,
) -> None:
    """Record `rollout` entering `state` at `weight` (the same state again: a step restarts)."""
    rollout.state = state
    rollout.weight = weight
    rollout.reason = reason
    rollout.updated_at = now
    if state not in ACTIVE_STATES:
        rollout.finished_at = now
    session.add(rollout)
    session.flush()  # the rollout's id, and its state for the routing rebuilt below
    assert rollout.id is not None and model.id is not None
    session.add(
        RolloutTransition(
            rollout_id=rollout.id, time=now, state=state, weight=weight, reason=reason
        )
    )
    rebuild_routing(session, model.id)
    if event is not None:
        record_event(
            session,
            type=event,
            severity=_SEVERITY.get(event, Severity.INFO),
            model=model,
            data={
                "rollout_id": rollout.id,
                "state": state.value,
                "weight": weight,
                "step_index": rollout.step_index,
                "stable_version": rollout.stable_version,
                "candidate_version": rollout.candidate_version,
                "candidate_endpoint": rollout.candidate_endpoint,
                "failed_checks": rollout.failed_checks,
                "reason": reason,
                **(data or {}),
            },
        )
