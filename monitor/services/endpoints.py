"""Registering, listing and removing a model's serving endpoints (the routing follows)."""

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from monitor.entities.champion import ChampionSource
from monitor.entities.endpoint import EndpointIn, EndpointPublic, ServingEndpoint
from monitor.entities.registered_model import RegisteredModel
from monitor.entities.rollout import ACTIVE_STATES, Rollout
from monitor.services.errors import Conflict, NotFound
from monitor.services.routing import rebuild_routing, stable_endpoint
from monitor.versions.champion import latest_change, record_champion


def public(endpoint: ServingEndpoint) -> EndpointPublic:
    return EndpointPublic.model_validate(endpoint, from_attributes=True)


def create_endpoint(
    *, session: Session, model: RegisteredModel, endpoint_in: EndpointIn
) -> ServingEndpoint:
    assert model.id is not None
    endpoint = ServingEndpoint(model_id=model.id, **endpoint_in.model_dump())
    session.add(endpoint)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(
            f"model {model.name!r} already has an endpoint {endpoint_in.name!r}; delete it "
            f"first (DELETE /api/v1/models/{model.name}/endpoints/{endpoint_in.name}) or "
            "choose another name"
        ) from None
    _first_champion(session, model)
    rebuild_routing(session, model.id)
    session.commit()
    session.refresh(endpoint)
    return endpoint


def _first_champion(session: Session, model: RegisteredModel) -> None:
    """A model with no known champion takes the version its stable endpoint serves."""
    assert model.id is not None
    stable = stable_endpoint(session, model.id)
    if stable is not None and stable.model_version and latest_change(session, model.id) is None:
        record_champion(
            session,
            model,
            stable.model_version,
            since=stable.created_at,
            source=ChampionSource.ENDPOINT,
        )


def list_endpoints(
    *, session: Session, model: RegisteredModel
) -> tuple[list[ServingEndpoint], int]:
    query = select(ServingEndpoint).where(ServingEndpoint.model_id == model.id)
    count = session.exec(select(func.count()).select_from(query.subquery())).one()
    return list(session.exec(query.order_by(col(ServingEndpoint.id))).all()), count


def get_endpoint(*, session: Session, model: RegisteredModel, name: str) -> ServingEndpoint:
    endpoint = session.exec(
        select(ServingEndpoint)
        .where(ServingEndpoint.model_id == model.id)
        .where(ServingEndpoint.name == name)
    ).first()
    if endpoint is None:
        raise NotFound(
            f"model {model.name!r} has no endpoint {name!r}; list them with "
            f"GET /api/v1/models/{model.name}/endpoints"
        )
    return endpoint


def delete_endpoint(*, session: Session, model: RegisteredModel, name: str) -> None:
    """Remove an endpoint; refused while an active rollout routes to it."""
    endpoint = get_endpoint(session=session, model=model, name=name)
    busy = session.exec(
        select(Rollout)
        .where(Rollout.model_id == model.id)
        .where(col(Rollout.state).in_(ACTIVE_STATES))
        .where(or_(Rollout.stable_endpoint == name, Rollout.candidate_endpoint == name))
    ).first()
    if busy is not None:
        raise Conflict(
            f"endpoint {name!r} takes part in rollout {busy.id} ({busy.state}); abort or "
            "finish the rollout first"
        )
    session.delete(endpoint)
    session.flush()
    assert model.id is not None
    rebuild_routing(session, model.id)
    session.commit()
