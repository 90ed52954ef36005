"""The traffic split sidecars apply: named variants with weights summing to 100."""

from pydantic import BaseModel, Field


class RoutingVariant(BaseModel):
    name: str = Field(description="stable, canary or shadow")
    model_version: str | None = Field(description="Registry version served; null if unknown")
    endpoint: str | None = Field(description="Serving endpoint URL; null: the sidecar's default")
    weight: int = Field(ge=0, le=100, description="Percent of traffic (0 for shadow)")
    v2_model_name: str | None = Field(
        default=None,
        description="Name the endpoint serves the model under in Open Inference Protocol v2 "
        "paths; null: the name the caller used",
    )


class Routing(BaseModel):
    revision: int = Field(description="Increases whenever the split changes")
    variants: list[RoutingVariant]
