"""Promotion: MLflow's aliases move first (@champion to the candidate, @previous to the old
champion), then the candidate endpoint becomes the stable one and takes all traffic, and the
candidate becomes the champion the monitors judge from the next window on."""

from datetime import datetime

from sqlmodel import Session, select

from monitor.entities.champion import ChampionSource
from monitor.entities.endpoint import ServingEndpoint
from monitor.entities.event import EventType
from monitor.entities.registered_model import RegisteredModel
from monitor.entities.retraining import RetrainingPipeline
from monitor.entities.rollout import Rollout, RolloutState
from monitor.retraining.executor import registry_for
from monitor.rollouts.lifecycle import transition
from monitor.services.errors import Conflict
from monitor.settings import Settings
from monitor.versions.champion import record_champion


class PromotionFailed(Conflict):
    """MLflow refused to move the aliases; the rollout stays where it was."""


def registry_name(session: Session, model: RegisteredModel) -> str:
    """The MLflow registered model: the retraining pipeline's `registry_model`, else the
    model's own name."""
    pipeline = session.exec(
        select(RetrainingPipeline).where(RetrainingPipeline.model_id == model.id)
    ).first()
    return (pipeline.spec.registry_model if pipeline else None) or model.name


def promote(
    session: Session,
    settings: Settings,
    rollout: Rollout,
    model: RegisteredModel,
    *,
    now: datetime,
    reason: str,
) -> None:
    """Move the aliases, then record the promotion (in the caller's transaction)."""
    from triggers.registry.mlflow_registry import RegistryError  # mlflow is slow to import

    name = registry_name(session, model)
    try:
        move = registry_for(settings).promote(name, rollout.candidate_version)
    except RegistryError as error:
        raise PromotionFailed(
            f"rollout {rollout.id} of {model.name!r} was not promoted: {error}"
        ) from error
    endpoints = session.exec(
        select(ServingEndpoint).where(ServingEndpoint.model_id == model.id)
    ).all()
    for endpoint in endpoints:
        endpoint.is_stable = endpoint.name == rollout.candidate_endpoint
        if endpoint.is_stable and endpoint.model_version is None:
            endpoint.model_version = rollout.candidate_version
        session.add(endpoint)
    record_champion(
        session,
        model,
        rollout.candidate_version,
        since=now,
        source=ChampionSource.ROLLOUT,
        rollout_id=rollout.id,
    )
    transition(
        session,
        rollout,
        model,
        state=RolloutState.PROMOTED,
        weight=100,
        reason=reason,
        now=now,
        event=EventType.ROLLOUT_PROMOTED,
        data={
            "registry_model": name,
            "aliases_before": dict(move.before),
            "aliases_after": dict(move.after),
        },
    )
