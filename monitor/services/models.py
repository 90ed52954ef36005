"""Registering, reading, listing and updating the models under watch."""

from sqlalchemy import func
from sqlmodel import Session, select

from monitor.entities.registered_model import (
    FeatureSpec,
    RegisteredModel,
    RegisteredModelCreate,
    RegisteredModelUpdate,
)
from monitor.services.errors import Conflict, NotFound, Unprocessable
from monitor.store.types import utc_now


def get_model(*, session: Session, name: str) -> RegisteredModel:
    model = session.exec(select(RegisteredModel).where(RegisteredModel.name == name)).first()
    if model is None:
        raise NotFound(f"model {name!r} is not registered; register it with POST /api/v1/models")
    return model


def list_models(
    *, session: Session, offset: int = 0, limit: int = 100
) -> tuple[list[RegisteredModel], int]:
    count = session.exec(select(func.count()).select_from(RegisteredModel)).one()
    models = session.exec(
        select(RegisteredModel).order_by(RegisteredModel.name).offset(offset).limit(limit)
    ).all()
    return list(models), count


def register_model(*, session: Session, model_in: RegisteredModelCreate) -> RegisteredModel:
    existing = session.exec(
        select(RegisteredModel).where(RegisteredModel.name == model_in.name)
    ).first()
    if existing is not None:
        raise Conflict(
            f"model {model_in.name!r} is already registered; change it with "
            f"PATCH /api/v1/models/{model_in.name}"
        )
    model = RegisteredModel(
        name=model_in.name,
        task=model_in.task,
        description=model_in.description,
        features=[feature.model_dump(mode="json") for feature in model_in.features],
        class_labels=model_in.class_labels,
    )
    session.add(model)
    session.commit()
    session.refresh(model)
    return model


def update_model(
    *, session: Session, name: str, model_in: RegisteredModelUpdate
) -> RegisteredModel:
    model = get_model(session=session, name=name)
    if model_in.description is not None:
        model.description = model_in.description
    if model_in.features is not None:
        _check_schema_evolution(model.data_schema.features, model_in.features)
        model.features = [feature.model_dump(mode="json") for feature in model_in.features]
    model.updated_at = utc_now()
    session.add(model)
    session.commit()
    session.refresh(model)
    return model


def _check_schema_evolution(old: list[FeatureSpec], new: list[FeatureSpec]) -> None:
    new_by_name = {feature.name: feature for feature in new}
    for feature in old:
        replacement = new_by_name.get(feature.name)
        if replacement is None:
            raise Unprocessable(
                "features",
                f"feature {feature.name!r} cannot be removed: stored records and the reference "
                "use it; keep it in the list (make it nullable if sidecars stop sending it)",
            )
        if replacement.kind is not feature.kind:
            raise Unprocessable(
                "features",
                f"feature {feature.name!r} cannot change kind from {feature.kind} to "
                f"{replacement.kind}; register a new feature name instead",
            )
        if feature.nullable and not replacement.nullable:
            raise Unprocessable(
                "features",
                f"feature {feature.name!r} cannot become non-nullable: stored records may lack it",
            )
    old_names = {feature.name for feature in old}
    for feature in new:
        if feature.name not in old_names and not feature.nullable:
            raise Unprocessable(
                "features",
                f"new feature {feature.name!r} must be nullable, since records already stored "
                "do not have it",
            )
