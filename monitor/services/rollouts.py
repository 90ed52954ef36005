"""Canary rollouts through the API and CLI: starting one (at most one active per model),
reading rollouts and their checks, and the manual controls pause, resume, abort and promote."""

import logging
from dataclasses import asdict
from enum import StrEnum

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from monitor.entities.endpoint import ServingEndpoint
from monitor.entities.event import EventType
from monitor.entities.registered_model import RegisteredModel
from monitor.entities.rollout import (
    ACTIVE_STATES,
    CheckPublic,
    Rollout,
    RolloutCheck,
    RolloutIn,
    RolloutPublic,
    RolloutState,
    RolloutTransition,
)
from monitor.retraining.executor import registry_for
from monitor.rollouts.lifecycle import transition
from monitor.rollouts.promotion import promote, registry_name
from monitor.services.endpoints import get_endpoint
from monitor.services.errors import Conflict, NotFound, Unprocessable
from monitor.services.routing import stable_endpoint
from monitor.settings import Settings
from monitor.store.types import utc_now

log = logging.getLogger(__name__)


class Action(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    ABORT = "abort"
    PROMOTE = "promote"


# The states each manual action may start from.
_ALLOWED = {
    Action.PAUSE: (RolloutState.SHADOWING, RolloutState.PROGRESSING),
    Action.RESUME: (RolloutState.PAUSED,),
    Action.ABORT: ACTIVE_STATES,
    Action.PROMOTE: ACTIVE_STATES,
}


def _public(session: Session, rollout: Rollout, model: RegisteredModel) -> RolloutPublic:
    transitions = session.exec(
        select(RolloutTransition)
        .where(RolloutTransition.rollout_id == rollout.id)
        .order_by(col(RolloutTransition.id))
    ).all()
    return RolloutPublic.of(rollout, model.name, list(transitions))


def _named_endpoint(
    session: Session, model: RegisteredModel, field: str, name: str
) -> ServingEndpoint:
    try:
        return get_endpoint(session=session, model=model, name=name)
    except NotFound as error:
        raise Unprocessable(
            field,
            f"{field}: {error}; register it with POST /api/v1/models/{model.name}/endpoints",
        ) from None


def _stable_of(
    session: Session, model: RegisteredModel, rollout_in: RolloutIn, candidate: ServingEndpoint
) -> ServingEndpoint | None:
    if rollout_in.stable_endpoint is None:
        stable = stable_endpoint(session, candidate.model_id)
        if stable is not None and stable.id == candidate.id:
            raise Unprocessable(
                "candidate_endpoint",
                f"candidate_endpoint: {candidate.name!r} is the stable endpoint of "
                f"{model.name!r}, which serves all traffic now; register the candidate as "
                "another endpoint, or name the stable one in stable_endpoint",
            )
        return stable
    stable = _named_endpoint(session, model, "stable_endpoint", rollout_in.stable_endpoint)
    if stable.id == candidate.id:
        raise Unprocessable(
            "stable_endpoint", "stable_endpoint: must differ from candidate_endpoint"
        )
    return stable


def _candidate_version(
    session: Session,
    settings: Settings,
    model: RegisteredModel,
    rollout_in: RolloutIn,
    candidate: ServingEndpoint,
) -> str:
    if rollout_in.candidate_version is not None:
        return rollout_in.candidate_version
    from triggers.registry.mlflow_registry import CHALLENGER, RegistryError

    name = registry_name(session, model)
    try:
        challenger = registry_for(settings).by_alias(name, CHALLENGER)
    except RegistryError as error:
        log.warning("no @challenger for %s: %s", name, error)
        challenger = None
    if challenger is not None:
        return challenger.version
    if candidate.model_version is not None:
        return candidate.model_version
    raise Unprocessable(
        "candidate_version",
        f"candidate_version: {name!r} has no @challenger in MLflow and endpoint "
        f"{candidate.name!r} names no model_version; give the version to roll out",
    )


def start_rollout(
    *, session: Session, settings: Settings, model: RegisteredModel, rollout_in: RolloutIn
) -> RolloutPublic:
    """Start a rollout (409 while the model has an active one; the database guarantees it)."""
    assert model.id is not None
    _refuse_second(session, model)
    candidate = _named_endpoint(session, model, "candidate_endpoint", rollout_in.candidate_endpoint)
    stable = _stable_of(session, model, rollout_in, candidate)
    now = utc_now()
    shadowing = rollout_in.shadow_seconds > 0
    rollout = Rollout(
        model_id=model.id,
        state=RolloutState.SHADOWING if shadowing else RolloutState.PROGRESSING,
        stable_version=stable.model_version if stable else None,
        candidate_version=_candidate_version(session, settings, model, rollout_in, candidate),
        stable_endpoint=stable.name if stable else None,
        candidate_endpoint=candidate.name,
        steps=rollout_in.steps,
        bake_seconds=rollout_in.bake_seconds,
        shadow_seconds=rollout_in.shadow_seconds,
        min_requests=rollout_in.min_requests,
        max_failed_checks=rollout_in.max_failed_checks,
        thresholds=asdict(rollout_in.thresholds),
        created_at=now,
        step_started_at=now,
    )
    session.add(rollout)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        _refuse_second(session, model)
        raise Conflict(f"the rollout of {model.name!r} could not be started; try again") from None
    what = (
        f"shadowing for {rollout.shadow_seconds}s"
        if shadowing
        else f"canary at {rollout.steps[0]}%"
    )
    transition(
        session,
        rollout,
        model,
        state=rollout.state,
        weight=0 if shadowing else rollout.steps[0],
        reason=f"started: version {rollout.candidate_version} on {candidate.name!r}, {what}",
        now=now,
        event=EventType.ROLLOUT_STARTED,
    )
    session.commit()
    return _public(session, rollout, model)


def _refuse_second(session: Session, model: RegisteredModel) -> None:
    active = session.exec(
        select(Rollout)
        .where(Rollout.model_id == model.id)
        .where(col(Rollout.state).in_(ACTIVE_STATES))
    ).first()
    if active is not None:
        raise Conflict(
            f"model {model.name!r} already has rollout {active.id} {active.state}; at most one "
            f"is active at a time: promote or abort it first "
            f"(POST /api/v1/models/{model.name}/rollouts/{active.id}/abort)"
        )


def list_rollouts(
    *, session: Session, model: RegisteredModel, offset: int = 0, limit: int = 50
) -> tuple[list[RolloutPublic], int]:
    query = select(Rollout).where(Rollout.model_id == model.id)
    count = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(Rollout.id).desc()).offset(offset).limit(limit)).all()
    return [_public(session, row, model) for row in rows], count


def _get(
    session: Session, model: RegisteredModel, rollout_id: int, *, lock: bool = False
) -> Rollout:
    rollout = session.get(Rollout, rollout_id, with_for_update=lock)
    if rollout is None or rollout.model_id != model.id:
        raise NotFound(f"model {model.name!r} has no rollout {rollout_id}")
    return rollout


def get_rollout(*, session: Session, model: RegisteredModel, rollout_id: int) -> RolloutPublic:
    return _public(session, _get(session, model, rollout_id), model)


def active_rollout(*, session: Session, model: RegisteredModel) -> Rollout:
    """The model's active rollout (404 when it has none)."""
    rollout = session.exec(
        select(Rollout)
        .where(Rollout.model_id == model.id)
        .where(col(Rollout.state).in_(ACTIVE_STATES))
    ).first()
    if rollout is None:
        raise NotFound(f"model {model.name!r} has no active rollout")
    return rollout


def list_checks(
    *, session: Session, model: RegisteredModel, rollout_id: int
) -> tuple[list[CheckPublic], int]:
    _get(session, model, rollout_id)
    rows = session.exec(
        select(RolloutCheck)
        .where(RolloutCheck.rollout_id == rollout_id)
        .order_by(col(RolloutCheck.id))
    ).all()
    return [CheckPublic.model_validate(row, from_attributes=True) for row in rows], len(rows)


def act(
    *,
    session: Session,
    settings: Settings,
    model: RegisteredModel,
    rollout_id: int,
    action: Action,
) -> RolloutPublic:
    """Pause, resume, abort or promote by hand (409 where the state does not allow it)."""
    rollout = _get(session, model, rollout_id, lock=True)
    if rollout.state not in _ALLOWED[action]:
        allowed = ", ".join(state.value for state in _ALLOWED[action])
        raise Conflict(
            f"rollout {rollout_id} of {model.name!r} is {rollout.state}; {action.value} "
            f"needs it {allowed}"
        )
    now = utc_now()
    if action is Action.PROMOTE:
        promote(session, settings, rollout, model, now=now, reason="promoted by hand")
    elif action is Action.PAUSE:
        transition(
            session,
            rollout,
            model,
            state=RolloutState.PAUSED,
            weight=rollout.weight,
            reason="paused by hand",
            now=now,
            event=EventType.ROLLOUT_PAUSED,
        )
    elif action is Action.RESUME:
        rollout.step_started_at = now  # the step bakes again, on traffic from now on
        state = RolloutState.SHADOWING if rollout.weight == 0 else RolloutState.PROGRESSING
        transition(
            session,
            rollout,
            model,
            state=state,
            weight=rollout.weight,
            reason="resumed by hand",
            now=now,
            event=EventType.ROLLOUT_RESUMED,
        )
    else:
        transition(
            session,
            rollout,
            model,
            state=RolloutState.ABORTED,
            weight=0,
            reason="aborted by hand",
            now=now,
            event=EventType.ROLLOUT_ABORTED,
        )
    session.commit()
    return _public(session, rollout, model)
