"""Canary rollouts: a candidate endpoint taking traffic in steps, each step's checks, the
rollout's state transitions, and the routing each model's sidecars poll (with its revision)."""

from datetime import datetime
from enum import StrEnum
from itertools import pairwise
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator
from sqlalchemy import Index, String, Text, text
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from monitor.entities.registered_model import Name
from monitor.store.types import BigIntegerId, JSONValue, UTCDateTime, utc_now
from triggers.canary.thresholds import CheckName, Outcome, Thresholds


class RolloutState(StrEnum):
    SHADOWING = "shadowing"  # the candidate gets a copy of the traffic; its answers are dropped
    PROGRESSING = "progressing"
    PAUSED = "paused"  # by hand, or inconclusive: too few requests when a step's bake ended
    PROMOTED = "promoted"
    ROLLED_BACK = "rolled_back"  # automatically: the failed-check budget is spent
    ABORTED = "aborted"  # by hand


ACTIVE_STATES = (RolloutState.SHADOWING, RolloutState.PROGRESSING, RolloutState.PAUSED)
_ACTIVE_SQL = "state IN ('shadowing', 'progressing', 'paused')"


def _bounded(low: float, high: float, *, exclusive_low: bool = False) -> dict[str, Any]:
    key = "exclusiveMinimum" if exclusive_low else "minimum"
    return {"type": "number", key: low, "maximum": high}


# `Thresholds` checks its bounds in `__post_init__`, which a JSON Schema cannot see: say them.
_THRESHOLDS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "max_error_rate_increase": _bounded(0, 1) | {"default": 0.02},
        "max_p99_latency_ratio": _bounded(1, 1000) | {"default": 1.5},
        "max_prediction_psi": _bounded(0, 100, exclusive_low=True) | {"default": 0.2},
        "max_accuracy_drop": _bounded(0, 1) | {"default": 0.05},
        "min_labels": {"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 30},
    },
}


class RolloutIn(BaseModel):
    """Request body of `POST /api/v1/models/{model}/rollouts`."""

    model_config = ConfigDict(extra="forbid")

    candidate_endpoint: Name = Field(description="Name of the endpoint serving the candidate")
    candidate_version: str | None = Field(
        default=None,
        max_length=128,
        description="Default: the MLflow version at @challenger, else the candidate "
        "endpoint's model_version",
    )
    stable_endpoint: Name | None = Field(
        default=None,
        description="Default: the model's stable endpoint (none registered: the sidecars' "
        "--upstream)",
    )
    steps: list[int] = Field(
        default_factory=lambda: [5, 25, 50, 100],
        min_length=1,
        max_length=20,
        description="Canary weights in percent, increasing, ending at 100",
        json_schema_extra={
            "items": {"type": "integer", "minimum": 1, "maximum": 100},
            "uniqueItems": True,
            "contains": {"const": 100},
        },
    )
    bake_seconds: int = Field(default=60, ge=1, le=7 * 86_400, description="Time per step")
    shadow_seconds: int = Field(
        default=0, ge=0, le=7 * 86_400, description="Shadow phase before the first step"
    )
    min_requests: int = Field(
        default=50,
        ge=1,
        le=1_000_000_000,
        description="Fewer per variant in a step: paused as inconclusive",
    )
    max_failed_checks: int = Field(
        default=2, ge=1, le=100, description="Failed checks (over all steps) that roll back"
    )
    thresholds: Annotated[Thresholds, WithJsonSchema(_THRESHOLDS_SCHEMA)] = Thresholds()

    @field_validator("steps")
    @classmethod
    def _increasing_to_100(cls, steps: list[int]) -> list[int]:
        if any(not 1 <= step <= 100 for step in steps):
            raise ValueError("each step is a canary weight in percent, from 1 to 100")
        if any(later <= earlier for earlier, later in pairwise(steps)):
            raise ValueError(f"steps must increase, e.g. [5, 25, 50, 100]; got {steps}")
        if steps[-1] != 100:
            raise ValueError(
                f"the last step must be 100 (all traffic to the candidate); got {steps}"
            )
        return steps


class Rollout(SQLModel, table=True):
    __tablename__ = "rollout"
    __table_args__ = (
        Index("ix_rollout_model_created", "model_id", "created_at"),
        Index("ix_rollout_state", "state"),
        # The database guarantees at most one active rollout per model: a second start fails it.
        Index(
            "uq_rollout_active",
            "model_id",
            unique=True,
            sqlite_where=text(_ACTIVE_SQL),
            postgresql_where=text(_ACTIVE_SQL),
        ),
    )

    id: int | None = TableField(default=None, primary_key=True)
    model_id: int = TableField(foreign_key="registered_model.id", ondelete="CASCADE")
    state: RolloutState = TableField(sa_type=String(16))
    stable_version: str | None = TableField(default=None, max_length=128)
    candidate_version: str = TableField(max_length=128)
    # Names rather than keys: a finished rollout still reads back after its endpoints are gone.
    stable_endpoint: str | None = TableField(default=None, max_length=128)
    candidate_endpoint: str = TableField(max_length=128)
    steps: list[int] = TableField(sa_type=JSONValue, nullable=False)
    step_index: int = 0
    weight: int = 0
    bake_seconds: int
    shadow_seconds: int = 0
    min_requests: int
    max_failed_checks: int
    failed_checks: int = 0
    thresholds: dict[str, Any] = TableField(sa_type=JSONValue, nullable=False)
    reason: str | None = TableField(default=None, sa_type=Text)
    created_at: datetime = TableField(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = TableField(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)
    step_started_at: datetime = TableField(
        default_factory=utc_now, sa_type=UTCDateTime, nullable=False
    )
    finished_at: datetime | None = TableField(default=None, sa_type=UTCDateTime)

    @property
    def limits(self) -> Thresholds:
        return Thresholds(**self.thresholds)


class RolloutTransition(SQLModel, table=True):
    __tablename__ = "rollout_transition"

    id: int | None = TableField(default=None, primary_key=True, sa_type=BigIntegerId)
    rollout_id: int = TableField(foreign_key="rollout.id", ondelete="CASCADE", index=True)
    time: datetime = TableField(sa_type=UTCDateTime, nullable=False)
    state: RolloutState = TableField(sa_type=String(16))
    weight: int
    reason: str = TableField(sa_type=Text)


class RolloutCheck(SQLModel, table=True):
    __tablename__ = "rollout_check"

    id: int | None = TableField(default=None, primary_key=True, sa_type=BigIntegerId)
    rollout_id: int = TableField(foreign_key="rollout.id", ondelete="CASCADE", index=True)
    time: datetime = TableField(sa_type=UTCDateTime, nullable=False)
    step_index: int
    weight: int
    name: CheckName = TableField(sa_type=String(32))
    stable_value: float | None = None
    canary_value: float | None = None
    threshold: float
    outcome: Outcome = TableField(sa_type=String(16))
    n_stable: int
    n_canary: int
    detail: str = TableField(sa_type=Text)


class RoutingState(SQLModel, table=True):
    """The split a model's sidecars apply, rebuilt in the transaction of every change that
    moves it, so a poll is one primary-key read."""

    __tablename__ = "routing_state"

    model_id: int = TableField(
        foreign_key="registered_model.id", ondelete="CASCADE", primary_key=True
    )
    revision: int
    variants: list[dict[str, Any]] = TableField(sa_type=JSONValue, nullable=False)
    updated_at: datetime = TableField(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)


class TransitionPublic(BaseModel):
    time: datetime
    state: RolloutState
    weight: int
    reason: str


class RolloutPublic(BaseModel):
    id: int
    model: str
    state: RolloutState
    stable_version: str | None
    candidate_version: str
    stable_endpoint: str | None
    candidate_endpoint: str
    steps: list[int]
    step_index: int
    weight: int
    bake_seconds: int
    shadow_seconds: int
    min_requests: int
    max_failed_checks: int
    failed_checks: int
    thresholds: Thresholds
    reason: str | None
    created_at: datetime
    updated_at: datetime
    step_started_at: datetime
    finished_at: datetime | None
    transitions: list[TransitionPublic]

    @classmethod
    def of(cls, rollout: Rollout, model: str, transitions: list[RolloutTransition]) -> Self:
        fields = set(cls.model_fields) - {"model", "thresholds", "transitions"}
        return cls(
            model=model,
            thresholds=rollout.limits,
            transitions=[
                TransitionPublic.model_validate(t, from_attributes=True) for t in transitions
            ],
            **{name: getattr(rollout, name) for name in fields},
        )


class RolloutsPublic(BaseModel):
    data: list[RolloutPublic]
    count: int


class CheckPublic(BaseModel):
    id: int
    time: datetime
    step_index: int
    weight: int
    name: CheckName
    stable_value: float | None
    canary_value: float | None
    threshold: float
    outcome: Outcome
    n_stable: int
    n_canary: int
    detail: str


class ChecksPublic(BaseModel):
    data: list[CheckPublic]
    count: int
