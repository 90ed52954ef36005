"""Canary rollouts: start one and act on it by hand (admin); read rollouts and checks (read)."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from monitor.api.deps import (
    AdminKey,
    ConfigId,
    ModelDep,
    Offset,
    ReadKey,
    SessionDep,
    SettingsDep,
)
from monitor.entities.rollout import ChecksPublic, RolloutIn, RolloutPublic, RolloutsPublic
from monitor.services import rollouts
from monitor.services.rollouts import Action

router = APIRouter(prefix="/api/v1/models/{model}/rollouts", tags=["rollouts"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[AdminKey],
    summary="Start a canary rollout of a candidate endpoint",
)
def start_rollout(
    session: SessionDep, settings: SettingsDep, model: ModelDep, rollout_in: RolloutIn
) -> RolloutPublic:
    return rollouts.start_rollout(
        session=session, settings=settings, model=model, rollout_in=rollout_in
    )


@router.get("", dependencies=[ReadKey], summary="Rollouts, newest first")
def list_rollouts(
    session: SessionDep,
    model: ModelDep,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> RolloutsPublic:
    rows, count = rollouts.list_rollouts(session=session, model=model, offset=offset, limit=limit)
    return RolloutsPublic(data=rows, count=count)


@router.get("/{rollout_id}", dependencies=[ReadKey], summary="A rollout and its transitions")
def read_rollout(session: SessionDep, model: ModelDep, rollout_id: ConfigId) -> RolloutPublic:
    return rollouts.get_rollout(session=session, model=model, rollout_id=rollout_id)


@router.get("/{rollout_id}/checks", dependencies=[ReadKey], summary="Every check of every step")
def list_checks(session: SessionDep, model: ModelDep, rollout_id: ConfigId) -> ChecksPublic:
    rows, count = rollouts.list_checks(session=session, model=model, rollout_id=rollout_id)
    return ChecksPublic(data=rows, count=count)


@router.post(
    "/{rollout_id}/{action}",
    dependencies=[AdminKey],
    summary="Pause, resume, abort or promote (promotion moves the MLflow aliases)",
)
def act(
    session: SessionDep,
    settings: SettingsDep,
    model: ModelDep,
    rollout_id: ConfigId,
    action: Action,
) -> RolloutPublic:
    return rollouts.act(
        session=session,
        settings=settings,
        model=model,
        rollout_id=rollout_id,
        action=action,
    )
