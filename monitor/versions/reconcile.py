"""Reconciling the champion with MLflow: `@champion` moved outside a rollout (by hand, from a
notebook or CI) is noticed by reading the alias, since registry webhooks are not durable (they
are received in monitor/integrations/mlflow_webhooks.py)."""

import logging

from sqlalchemy import Engine
from sqlmodel import Session, col, or_, select

from monitor.entities.champion import ChampionChange
from monitor.entities.registered_model import RegisteredModel
from monitor.entities.retraining import RetrainingPipeline
from monitor.retraining.executor import registry_for
from monitor.rollouts.promotion import registry_name
from monitor.settings import Settings
from monitor.store.types import utc_now
from monitor.versions.follow import follow_registry_champion

log = logging.getLogger(__name__)


def reconcile_champions(engine: Engine, settings: Settings) -> int:
    """Record every model whose `@champion` in MLflow differs from the control plane's
    champion; returns how many changed. Only models with a registry life are read: those
    retrained here or whose champion is known; one the registry does not hold is left alone."""
    with Session(engine, expire_on_commit=False) as session:
        models = session.exec(
            select(RegisteredModel).where(
                or_(
                    col(RegisteredModel.id).in_(select(RetrainingPipeline.model_id)),
                    col(RegisteredModel.id).in_(select(ChampionChange.model_id)),
                )
            )
        ).all()
    if not models:
        return 0
    from triggers.registry.mlflow_registry import CHAMPION, RegistryError  # slow to import

    registry = registry_for(settings)
    changed = 0
    for model in models:
        with Session(engine) as session:
            name = registry_name(session, model)
            try:
                champion = registry.by_alias(name, CHAMPION)
            except RegistryError as error:
                log.warning("reading %s@%s failed: %s", name, CHAMPION, error)
                continue
            if champion is None:
                continue
            if follow_registry_champion(session, model, champion.version, now=utc_now()):
                log.info("%s: @champion is version %s in MLflow", model.name, champion.version)
                changed += 1
            session.commit()
    return changed
