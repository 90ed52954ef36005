"""The traffic split of a model's sidecars: stored per model with a revision, rebuilt in the
transaction of every change to endpoints or rollouts, and read with one primary-key look-up.

With no active rollout, one `stable` variant takes all traffic on the stable endpoint (none
registered: null, the sidecar's own upstream); during a rollout, `stable` and `canary` share it
by the current weight, and in the shadow phase a `shadow` variant (weight 0) gets a copy.
"""

from typing import Any

from sqlmodel import Session, col, select

from monitor.entities.endpoint import ServingEndpoint
from monitor.entities.inference import Variant
from monitor.entities.registered_model import RegisteredModel
from monitor.entities.rollout import ACTIVE_STATES, Rollout, RolloutState, RoutingState
from monitor.entities.routing import Routing, RoutingVariant
from monitor.store.types import utc_now

# The revision of a model whose split was never changed.
FIRST_REVISION = 1


def current_routing(*, session: Session, model: RegisteredModel) -> Routing:
    state = session.get(RoutingState, model.id)
    if state is None:
        return Routing(revision=FIRST_REVISION, variants=[_stable(None, 100)])
    return Routing.model_validate({"revision": state.revision, "variants": state.variants})


def stable_endpoint(session: Session, model_id: int) -> ServingEndpoint | None:
    """The endpoint taking traffic outside rollouts: the one flagged stable, else the first."""
    return session.exec(
        select(ServingEndpoint)
        .where(ServingEndpoint.model_id == model_id)
        .order_by(col(ServingEndpoint.is_stable).desc(), col(ServingEndpoint.id))
    ).first()


def _stable(
    endpoint: ServingEndpoint | None, weight: int, version: str | None = None
) -> RoutingVariant:
    return RoutingVariant(
        name=Variant.STABLE,
        model_version=version if version is not None else endpoint and endpoint.model_version,
        endpoint=endpoint.url if endpoint else None,
        weight=weight,
        v2_model_name=endpoint.v2_model_name if endpoint else None,
    )


def _endpoint(session: Session, model_id: int, name: str | None) -> ServingEndpoint | None:
    if name is None:
        return None
    return session.exec(
        select(ServingEndpoint)
        .where(ServingEndpoint.model_id == model_id)
        .where(ServingEndpoint.name == name)
    ).first()


def _variants(session: Session, model_id: int) -> list[RoutingVariant]:
    rollout = session.exec(
        select(Rollout)
        .where(Rollout.model_id == model_id)
        .where(col(Rollout.state).in_(ACTIVE_STATES))
    ).first()
    if rollout is None:
        return [_stable(stable_endpoint(session, model_id), 100)]
    stable = _endpoint(session, model_id, rollout.stable_endpoint)
    candidate = _endpoint(session, model_id, rollout.candidate_endpoint)
    shadowing = rollout.state == RolloutState.SHADOWING or (
        rollout.state == RolloutState.PAUSED and rollout.weight == 0
    )
    candidate_variant = RoutingVariant(
        name=Variant.SHADOW if shadowing else Variant.CANARY,
        model_version=rollout.candidate_version,
        endpoint=candidate.url if candidate else None,
        weight=0 if shadowing else rollout.weight,
        v2_model_name=candidate.v2_model_name if candidate else None,
    )
    stable_weight = 100 if shadowing else 100 - rollout.weight
    return [_stable(stable, stable_weight, rollout.stable_version), candidate_variant]


def rebuild_routing(session: Session, model_id: int) -> int:
    """Recompute the split from the endpoints and the active rollout, inside the caller's
    transaction; the revision goes up only when the split changed. Returns the revision."""
    variants = [variant.model_dump(mode="json") for variant in _variants(session, model_id)]
    state = session.get(RoutingState, model_id, with_for_update=True)
    if state is None:
        state = RoutingState(model_id=model_id, revision=FIRST_REVISION + 1, variants=variants)
    elif _normalised(state.variants) != variants:
        state.revision += 1
        state.variants = variants
        state.updated_at = utc_now()
    session.add(state)
    return state.revision


def _normalised(stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored variants as they are served: fields added to `RoutingVariant` since they were
    stored read as their defaults, so a new field alone does not move the revision, while a
    value that differs from its default (which polls would otherwise miss behind an unchanged
    ETag) does."""
    return [RoutingVariant.model_validate(v).model_dump(mode="json") for v in stored]
