"""A model under watch: its task, feature schema and prediction schema."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints, model_validator
from sqlalchemy import String
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from monitor.store.types import JSONValue, UTCDateTime, utc_now

Name = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"),
]


class Task(StrEnum):
    BINARY_CLASSIFICATION = "binary_classification"
    MULTICLASS_CLASSIFICATION = "multiclass_classification"
    REGRESSION = "regression"

    @property
    def is_classification(self) -> bool:
        return self is not Task.REGRESSION


class FeatureKind(StrEnum):
    NUMERICAL = "numerical"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"


# Columns every record has besides its features; no feature may take one of these names.
RESERVED_COLUMNS = frozenset({"prediction", "label", "request_id", "timestamp"})


class FeatureSpec(BaseModel):
    """One input feature: values of `kind`; null allowed only when `nullable`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=128)] = Field(
        json_schema_extra={"not": {"enum": list[JsonValue](sorted(RESERVED_COLUMNS))}}
    )
    kind: FeatureKind
    nullable: bool = False


class ModelSchema(BaseModel):
    """The part of a registered model that ingestion validates against."""

    model_config = ConfigDict(frozen=True)

    task: Task
    features: list[FeatureSpec]
    class_labels: list[str] | None = None

    @property
    def feature_names(self) -> list[str]:
        return [feature.name for feature in self.features]

    @property
    def numeric_class_labels(self) -> bool:
        """Whether every class label is an integer (``[0, 1]``), so 1, 1.0 and "1.0" are "1"."""
        return bool(self.class_labels) and all(
            label.lstrip("-").isdigit() for label in self.class_labels or ()
        )


class RegisteredModelBase(SQLModel):
    name: Name = TableField(unique=True, index=True, max_length=128)
    task: Task = TableField(sa_type=String(32))
    description: str = TableField(default="", max_length=4096)


class RegisteredModel(RegisteredModelBase, table=True):
    __tablename__ = "registered_model"

    id: int | None = TableField(default=None, primary_key=True)
    features: list[dict[str, Any]] = TableField(sa_type=JSONValue, nullable=False)
    class_labels: list[str] | None = TableField(default=None, sa_type=JSONValue)
    created_at: datetime = TableField(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = TableField(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)

    @property
    def data_schema(self) -> ModelSchema:
        return ModelSchema(
            task=self.task,
            features=[FeatureSpec.model_validate(f) for f in self.features],
            class_labels=self.class_labels,
        )


def _check_features(features: list[FeatureSpec]) -> None:
    seen: set[str] = set()
    for feature in features:
        if feature.name in seen:
            raise ValueError(f"features: '{feature.name}' is listed twice; names must be unique")
        if feature.name in RESERVED_COLUMNS:
            raise ValueError(
                f"features: '{feature.name}' is a reserved column name; rename the feature"
            )
        seen.add(feature.name)


def _check_class_labels(task: Task, class_labels: list[str] | None) -> list[str] | None:
    if task is Task.REGRESSION:
        if class_labels:
            raise ValueError("class_labels: a regression model has no class labels; omit it")
        return None
    if task is Task.BINARY_CLASSIFICATION and class_labels is None:
        return ["0", "1"]
    if class_labels is None:
        raise ValueError("class_labels: required for multiclass_classification, e.g. ['a','b','c']")
    if len(set(class_labels)) != len(class_labels):
        raise ValueError("class_labels: labels must be unique")
    expected = 2 if task is Task.BINARY_CLASSIFICATION else None
    if expected is not None and len(class_labels) != expected:
        raise ValueError(
            "class_labels: binary_classification takes exactly two labels, negative then positive"
        )
    if len(class_labels) < 2:
        raise ValueError("class_labels: give at least two labels")
    return class_labels


_LABELS = {"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": True}
# What `_check_class_labels` accepts for each task, as the OpenAPI document states it.
_CLASS_LABELS_BY_TASK: dict[str, Any] = {
    "oneOf": [
        {
            "properties": {
                "task": {"const": str(Task.REGRESSION)},
                "class_labels": {"anyOf": [{"type": "null"}, {"type": "array", "maxItems": 0}]},
            }
        },
        {
            "properties": {
                "task": {"const": str(Task.BINARY_CLASSIFICATION)},
                "class_labels": {
                    "anyOf": [{"type": "null"}, _LABELS | {"minItems": 2, "maxItems": 2}]
                },
            }
        },
        {
            "properties": {
                "task": {"const": str(Task.MULTICLASS_CLASSIFICATION)},
                "class_labels": _LABELS | {"minItems": 2},
            },
            "required": ["class_labels"],
        },
    ]
}


class RegisteredModelCreate(BaseModel):
    """Request body of `POST /api/v1/models`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_CLASS_LABELS_BY_TASK)

    name: Name
    task: Task
    features: list[FeatureSpec] = Field(min_length=1, max_length=2048)
    class_labels: list[Annotated[str, StringConstraints(min_length=1)]] | None = None
    description: str = Field(default="", max_length=4096)

    @model_validator(mode="before")
    @classmethod
    def _integers_as_text(cls, data: Any) -> Any:
        """Integer class labels are stored as their text: [0, 1] is ["0", "1"]."""
        labels = data.get("class_labels") if isinstance(data, dict) else None
        if not isinstance(labels, list):
            return data
        text = [str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in labels]
        return {**data, "class_labels": text}

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _check_features(self.features)
        self.class_labels = _check_class_labels(self.task, self.class_labels)
        return self


class RegisteredModelUpdate(BaseModel):
    """Request body of `PATCH /api/v1/models/{model}`: every field optional.

    `features` is the whole new list: existing features keep their kind (a kind change would
    mix incomparable values in one column); new features must be nullable, since records
    already stored do not have them; an existing feature may become nullable.
    """

    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(default=None, max_length=4096)
    features: list[FeatureSpec] | None = Field(default=None, min_length=1, max_length=2048)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        if self.features is not None:
            _check_features(self.features)
        return self


class RegisteredModelPublic(BaseModel):
    name: str
    task: Task
    features: list[FeatureSpec]
    class_labels: list[str] | None
    description: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, model: RegisteredModel) -> "RegisteredModelPublic":
        return cls(
            name=model.name,
            task=model.task,
            features=model.data_schema.features,
            class_labels=model.class_labels,
            description=model.description,
            created_at=model.created_at,
            updated_at=model.updated_at,
        )


class RegisteredModelsPublic(BaseModel):
    data: list[RegisteredModelPublic]
    count: int
