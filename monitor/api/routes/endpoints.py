"""Serving endpoints of a model: register and remove them (admin), list them (read)."""

from fastapi import APIRouter, Response, status

from monitor.api.deps import AdminKey, ModelDep, ReadKey, SessionDep
from monitor.entities.endpoint import EndpointIn, EndpointPublic, EndpointsPublic
from monitor.services import endpoints

router = APIRouter(prefix="/api/v1/models/{model}/endpoints", tags=["rollouts"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[AdminKey],
    summary="Register a serving endpoint",
)
def create_endpoint(
    session: SessionDep, model: ModelDep, endpoint_in: EndpointIn
) -> EndpointPublic:
    created = endpoints.create_endpoint(session=session, model=model, endpoint_in=endpoint_in)
    return endpoints.public(created)


@router.get("", dependencies=[ReadKey], summary="The model's serving endpoints")
def list_endpoints(session: SessionDep, model: ModelDep) -> EndpointsPublic:
    rows, count = endpoints.list_endpoints(session=session, model=model)
    return EndpointsPublic(data=[endpoints.public(row) for row in rows], count=count)


@router.delete(
    "/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[AdminKey],
    summary="Remove a serving endpoint (refused while a rollout uses it)",
)
def delete_endpoint(session: SessionDep, model: ModelDep, name: str) -> Response:
    endpoints.delete_endpoint(session=session, model=model, name=name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
