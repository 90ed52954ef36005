"""Following `@champion` moved in MLflow outside a rollout (by hand, a notebook, CI): the
champion's history records it, so monitors re-baseline from the next window, and the sidecars'
routing sends stable traffic to the endpoint that serves the new champion.

Both the registry webhook (at once) and the reconciler's poll (the fallback) come through here.
"""

import logging
from datetime import datetime

from sqlmodel import Session, col, or_, select

from monitor.entities.champion import ChampionSource
from monitor.entities.endpoint import ServingEndpoint
from monitor.entities.registered_model import RegisteredModel
from monitor.entities.retraining import RetrainingPipeline
from monitor.entities.rollout import ACTIVE_STATES, Rollout
from monitor.rollouts.promotion import registry_name
from monitor.services.routing import rebuild_routing
from monitor.versions.champion import record_champion

log = logging.getLogger(__name__)


def models_registered_as(session: Session, name: str) -> list[RegisteredModel]:
    """The control plane's models whose MLflow registered model is `name` (the retraining
    pipeline's `registry_model`, else the model's own name)."""
    candidates = session.exec(
        select(RegisteredModel).where(
            or_(
                RegisteredModel.name == name,
                col(RegisteredModel.id).in_(select(RetrainingPipeline.model_id)),
            )
        )
    ).all()
    return [model for model in candidates if registry_name(session, model) == name]


def follow_registry_champion(
    session: Session, model: RegisteredModel, version: str, *, now: datetime
) -> bool:
    """Make `version` the champion seen in the registry, in the caller's transaction; False
    when it already was. Outside a rollout, the endpoint that names `version` becomes the
    stable one; during a rollout the split stays the rollout's until it ends."""
    if record_champion(session, model, version, since=now, source=ChampionSource.REGISTRY) is None:
        return False
    assert model.id is not None
    rolling = session.exec(
        select(Rollout)
        .where(Rollout.model_id == model.id)
        .where(col(Rollout.state).in_(ACTIVE_STATES))
    ).first()
    if rolling is not None:
        log.warning(
            "%s: @champion moved to version %s during rollout %s; the rollout keeps the split",
            model.name,
            version,
            rolling.id,
        )
        return True
    endpoints = session.exec(
        select(ServingEndpoint).where(ServingEndpoint.model_id == model.id)
    ).all()
    serving = next((e for e in endpoints if e.model_version == version), None)
    if serving is None:
        log.info("%s: no endpoint names version %s; the stable endpoint stays", model.name, version)
        return True
    for endpoint in endpoints:
        endpoint.is_stable = endpoint.id == serving.id
        session.add(endpoint)
    session.flush()
    rebuild_routing(session, model.id)
    return True
