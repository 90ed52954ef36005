"""Registering and configuring models (admin), reading them (read)."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from monitor.api.deps import AdminKey, ModelDep, Offset, ReadKey, ReadOrIngestKey, SessionDep
from monitor.entities.registered_model import (
    RegisteredModelCreate,
    RegisteredModelPublic,
    RegisteredModelsPublic,
    RegisteredModelUpdate,
)
from monitor.services import models

router = APIRouter(prefix="/api/v1/models", tags=["models"])


@router.post(
    "", status_code=status.HTTP_201_CREATED, dependencies=[AdminKey], summary="Register a model"
)
def register_model(session: SessionDep, model_in: RegisteredModelCreate) -> RegisteredModelPublic:
    return RegisteredModelPublic.of(models.register_model(session=session, model_in=model_in))


@router.get("", dependencies=[ReadKey], summary="List registered models")
def list_models(
    session: SessionDep,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> RegisteredModelsPublic:
    found, count = models.list_models(session=session, offset=offset, limit=limit)
    return RegisteredModelsPublic(data=[RegisteredModelPublic.of(m) for m in found], count=count)


@router.get("/{model}", dependencies=[ReadOrIngestKey], summary="Read a model")
def read_model(model: ModelDep) -> RegisteredModelPublic:
    return RegisteredModelPublic.of(model)


@router.patch("/{model}", dependencies=[AdminKey], summary="Update a model's description or schema")
def update_model(
    session: SessionDep, model: ModelDep, model_in: RegisteredModelUpdate
) -> RegisteredModelPublic:
    updated = models.update_model(session=session, name=model.name, model_in=model_in)
    return RegisteredModelPublic.of(updated)
