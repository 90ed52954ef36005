"""A serving endpoint of a model: where one version is served (URL, protocol, accelerator)."""

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from monitor.entities.registered_model import Name
from monitor.store.types import UTCDateTime, utc_now

_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")
Version = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class Protocol(StrEnum):
    MLFLOW = "mlflow"  # MLflow's scoring protocol: POST /invocations
    V2 = "v2"  # Open Inference Protocol v2: POST /v2/models/{name}/infer


class Accelerator(StrEnum):
    CPU = "cpu"
    GPU = "gpu"


class EndpointIn(BaseModel):
    """Request body of `POST /api/v1/models/{model}/endpoints`."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    url: str = Field(
        max_length=2048,
        description="Base URL of the server, e.g. http://10.0.0.7:8080",
        json_schema_extra={"pattern": _URL.pattern},
    )
    protocol: Protocol = Protocol.MLFLOW
    accelerator: Accelerator = Accelerator.CPU
    model_version: Version | None = Field(
        default=None, description="Registry version it serves; null if unknown"
    )
    v2_model_name: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = Field(
        default=None,
        description="Model name in the v2 paths (protocol v2 only); default: the path's name",
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not _URL.match(url):
            raise ValueError(f"{url!r} is not an http(s) URL; give one like http://127.0.0.1:5001")
        return url.rstrip("/")

    @model_validator(mode="after")
    def _v2_name_only_for_v2(self) -> Self:
        if self.v2_model_name is not None and self.protocol is not Protocol.V2:
            raise ValueError("v2_model_name: only for protocol 'v2'; remove it")
        return self


class ServingEndpoint(SQLModel, table=True):
    __tablename__ = "serving_endpoint"
    __table_args__ = (UniqueConstraint("model_id", "name", name="uq_serving_endpoint_model_name"),)

    id: int | None = TableField(default=None, primary_key=True)
    model_id: int = TableField(foreign_key="registered_model.id", ondelete="CASCADE")
    name: str = TableField(max_length=128)
    url: str = TableField(max_length=2048)
    protocol: Protocol = TableField(sa_type=String(16))
    accelerator: Accelerator = TableField(sa_type=String(8))
    model_version: str | None = TableField(default=None, max_length=128)
    v2_model_name: str | None = TableField(default=None, max_length=256)
    # The endpoint taking the traffic outside rollouts: the last one a rollout promoted
    # (none flagged: the one registered first).
    is_stable: bool = False
    created_at: datetime = TableField(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)


class EndpointPublic(BaseModel):
    id: int
    name: str
    url: str
    protocol: Protocol
    accelerator: Accelerator
    model_version: str | None
    v2_model_name: str | None
    is_stable: bool = Field(description="Takes the traffic outside rollouts")
    created_at: datetime


class EndpointsPublic(BaseModel):
    data: list[EndpointPublic]
    count: int
