"""Retraining: a model's pipeline (what runs, when, and the validation gate it must pass), its
runs, the lineage of the versions they registered, and the event cursor the trigger reads."""

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy import BigInteger, Index, String, Text, UniqueConstraint, text
from sqlmodel import Field as TableField
from sqlmodel import SQLModel

from monitor.entities.event import EventType, Severity
from monitor.entities.monitor import (
    DURATION_SCHEMA,
    POSITIVE_DURATION_SCHEMA,
    Schedule,
    WindowSpec,
    parse_duration,
)
from monitor.entities.registered_model import Name
from monitor.security.crypto import EncryptedJSON, EncryptedText
from monitor.store.types import BigIntegerId, JSONValue, UTCDateTime, utc_now
from triggers.registry.gate import RuleKind
from triggers.registry.metrics import Metric
from triggers.retraining import HttpStyle, check_entry_point
from triggers.retraining.pipelines import ENTRY_POINT


class PipelineKind(StrEnum):
    PYTHON = "python"  # `package.module:function`, in a child interpreter
    COMMAND = "command"  # a shell command line
    HTTP = "http"  # a trigger to an outside orchestrator, which calls back when done


class RetrainStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"  # the pipeline produced a version; see gate_passed for the verdict
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    INTERRUPTED = "interrupted"  # the control plane stopped while the run was in progress


ACTIVE_STATUSES = (RetrainStatus.QUEUED, RetrainStatus.RUNNING)


class RetrainTrigger(StrEnum):
    EVENT = "event"
    SCHEDULE = "schedule"
    MANUAL = "manual"


# Events retraining itself causes (or notification tests) never start a retraining: a policy
# on them would feed on its own output.
_UNTRIGGERING = ("retrain.", "model.", "validation.", "notification.")
TRIGGER_EVENT_TYPES = tuple(t.value for t in EventType if not t.value.startswith(_UNTRIGGERING))

_MINIMUM_TIMEOUT = timedelta(seconds=1)
_KIND_FIELDS = {
    PipelineKind.PYTHON: ("entry_point", "python"),
    PipelineKind.COMMAND: ("command",),
    PipelineKind.HTTP: ("url", "style", "event_type", "authorization_env"),
}
_REQUIRED = {
    PipelineKind.PYTHON: ("entry_point", "e.g. 'examples.retrain_sklearn:train'"),
    PipelineKind.COMMAND: ("command", "e.g. 'python train.py'"),
    PipelineKind.HTTP: ("url", "e.g. 'https://airflow.example.com/api/v1/dags/retrain/dagRuns'"),
}
_DEFAULTS: dict[str, Any] = {"style": HttpStyle.GENERIC, "event_type": "monitor-retrain"}


class TriggerPolicySpec(BaseModel):
    """Which events start a run: one of `event_types`, at `min_severity` or graver, from one of
    `monitors` when it names some."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_types: list[str] = Field(default_factory=lambda: [EventType.DRIFT_DETECTED.value])
    min_severity: Severity = Severity.WARNING
    monitors: list[str] | None = Field(
        default=None,
        min_length=1,
        description="Only events these monitors raise start a run; omitted: any monitor's",
    )
    enabled: bool = True

    @model_validator(mode="after")
    def _known_types(self) -> Self:
        for index, name in enumerate(self.event_types):
            if name not in TRIGGER_EVENT_TYPES:
                raise ValueError(
                    f"policy.event_types[{index}]: {name!r} cannot trigger a retraining; use "
                    f"one of {', '.join(TRIGGER_EVENT_TYPES)}"
                )
        return self


class GateRuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: Metric
    rule: RuleKind
    threshold: float = Field(ge=0, description="Absolute, or a fraction of the champion's value")
    relative: bool = False


class GateSpec(BaseModel):
    """The validation gate against `@champion`, on the newest labelled records held out."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: list[GateRuleSpec] | None = Field(
        default=None,
        description="Omitted: accuracy and ROC AUC (binary), accuracy and F1 (multiclass) no "
        "worse than 0.01 below the champion; RMSE no worse than 2% (regression).",
    )
    holdout_fraction: float = Field(
        default=0.3, gt=0, lt=1, description="Share of recent labelled records held out"
    )
    min_holdout_rows: int = Field(default=30, ge=1, description="Fewer held out: the gate fails")


class PipelineBase(BaseModel):
    """A model's retraining pipeline, as configured and read back."""

    kind: PipelineKind
    entry_point: str | None = Field(default=None, examples=["examples.retrain_sklearn:train"])
    python: str | None = Field(
        default=None, description="Interpreter for `python` pipelines; default: the server's own"
    )
    command: str | None = Field(default=None, examples=["python train.py --fast"])
    working_dir: str | None = Field(
        default=None, description="Working directory of `python` and `command` pipelines"
    )
    env: dict[str, str] = Field(
        default_factory=dict, description="Extra environment variables of local pipelines"
    )
    url: str | None = Field(default=None, description="Trigger URL of `http` pipelines")
    style: HttpStyle | None = Field(default=None, description="generic, airflow or github")
    event_type: str | None = Field(
        default=None, description="GitHub repository_dispatch event type (style github)"
    )
    authorization_env: str | None = Field(
        default=None,
        description="Environment variable of the control plane holding the trigger's whole "
        "Authorization header value, e.g. 'Bearer ghp_...'; the secret is never stored here.",
    )
    timeout: str = Field(
        default="1h",
        description="Longest a run may take, e.g. 30m, 2h",
        json_schema_extra=POSITIVE_DURATION_SCHEMA,
    )
    cooldown: str = Field(
        default="6h",
        description="After a run is requested, events start no other run this long",
        json_schema_extra=DURATION_SCHEMA,
    )
    policy: TriggerPolicySpec = TriggerPolicySpec()
    schedule: Schedule | None = Field(default=None, description="Also run on this schedule")
    training_window: WindowSpec = Field(
        default=WindowSpec(duration="30d"),
        description="Which recent production records are exported with their labels",
    )
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="Passed to the pipeline in its context, as they are"
    )
    registry_model: Name | None = Field(
        default=None, description="MLflow registered model name; default: the model's name"
    )
    experiment: str | None = Field(
        default=None, description="MLflow experiment; default: 'retraining/<model>'"
    )
    gate: GateSpec = GateSpec()
    enabled: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for kind, fields in _KIND_FIELDS.items():
            for name in fields:
                if kind is not self.kind and getattr(self, name) is not None:
                    raise ValueError(f"{name}: only for kind '{kind}'; remove it")
        required, example = _REQUIRED[self.kind]
        if not getattr(self, required):
            raise ValueError(f"{required}: required for kind '{self.kind}', {example}")
        if self.kind is PipelineKind.PYTHON:
            check_entry_point(self.entry_point or "")
        if self.kind is PipelineKind.HTTP:
            for name in ("style", "event_type"):
                if getattr(self, name) is None:
                    setattr(self, name, _DEFAULTS[name])
            if self.working_dir is not None or self.env:
                raise ValueError("working_dir, env: only for local pipelines; remove them")
        if parse_duration(self.timeout) < _MINIMUM_TIMEOUT:
            raise ValueError("timeout: must be at least 1s")
        parse_duration(self.cooldown)
        return self

    @property
    def timeout_delta(self) -> timedelta:
        return parse_duration(self.timeout)

    @property
    def cooldown_delta(self) -> timedelta:
        return parse_duration(self.cooldown)


def _one_of_kinds(schema: dict[str, Any]) -> None:
    """One branch per kind: its own fields (the required one set), the others' left out."""
    required_schema = {
        PipelineKind.PYTHON: {"type": "string", "pattern": ENTRY_POINT.pattern},
        PipelineKind.COMMAND: {"type": "string", "minLength": 1, "pattern": r"\S"},
        PipelineKind.HTTP: {"type": "string", "pattern": r"^https?://[A-Za-z0-9][^\s]*$"},
    }
    branches = []
    for kind, (required, _) in _REQUIRED.items():
        properties: dict[str, Any] = {
            "kind": {"const": str(kind)},
            required: required_schema[kind],
        }
        for other, fields in _KIND_FIELDS.items():
            if other is not kind:
                properties |= {name: {"type": "null"} for name in fields}
        if kind is PipelineKind.HTTP:
            properties |= {"working_dir": {"type": "null"}, "env": {"maxProperties": 0}}
        else:
            properties["callback_secret"] = {"type": "null"}
        branches.append({"properties": properties, "required": ["kind", required]})
    schema["oneOf"] = branches


class PipelineIn(PipelineBase):
    """Request body of `PUT /api/v1/models/{model}/pipeline`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_one_of_kinds)

    callback_secret: Annotated[str, StringConstraints(min_length=16, max_length=128)] | None = (
        Field(
            default=None,
            description="`http` pipelines: the HMAC key that signs the completion callback; "
            "generated (and returned once) when omitted.",
        )
    )

    @model_validator(mode="after")
    def _secret_for_http(self) -> Self:
        if self.callback_secret is not None and self.kind is not PipelineKind.HTTP:
            raise ValueError("callback_secret: only for kind 'http'; remove it")
        return self


class RetrainingPipeline(SQLModel, table=True):
    __tablename__ = "retraining_pipeline"

    id: int | None = TableField(default=None, primary_key=True)
    model_id: int = TableField(foreign_key="registered_model.id", ondelete="CASCADE", unique=True)
    kind: str = TableField(sa_type=String(16))
    config: dict[str, Any] = TableField(sa_type=EncryptedJSON, nullable=False, repr=False)
    callback_secret: str | None = TableField(default=None, sa_type=EncryptedText, repr=False)
    enabled: bool = True
    created_at: datetime = TableField(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = TableField(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)

    @property
    def spec(self) -> PipelineBase:
        return PipelineBase.model_validate({**self.config, "enabled": self.enabled})


class PipelinePublic(PipelineBase):
    model: str
    callback_secret_set: bool
    created_at: datetime
    updated_at: datetime


class PipelineConfigured(PipelinePublic):
    callback_secret: str | None = Field(
        description="The generated callback secret, shown only in this answer; null when you "
        "gave one or the pipeline is not `http`."
    )


class RetrainingRun(SQLModel, table=True):
    __tablename__ = "retraining_run"
    __table_args__ = (
        Index("ix_retraining_run_model_created", "model_id", "created_at"),
        Index("ix_retraining_run_status", "status"),
        # The database, not the scheduler, guarantees one active run per model: a second
        # request while one is queued or running fails this index.
        Index(
            "uq_retraining_run_active",
            "model_id",
            unique=True,
            sqlite_where=text("status IN ('queued', 'running')"),
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
        # An event starts at most one run, even when the trigger reads it twice.
        UniqueConstraint("model_id", "event_id", name="uq_retraining_run_event"),
    )

    id: int | None = TableField(default=None, primary_key=True, sa_type=BigIntegerId)
    model_id: int = TableField(foreign_key="registered_model.id", ondelete="CASCADE")
    pipeline_id: int = TableField(foreign_key="retraining_pipeline.id", ondelete="CASCADE")
    kind: str = TableField(sa_type=String(16))
    status: RetrainStatus = TableField(sa_type=String(16))
    trigger: RetrainTrigger = TableField(sa_type=String(16))
    event_id: int | None = TableField(
        default=None, foreign_key="event.id", ondelete="SET NULL", sa_type=BigIntegerId
    )
    event_uid: str | None = TableField(default=None, max_length=40)
    parameters: dict[str, Any] = TableField(default_factory=dict, sa_type=JSONValue)
    created_at: datetime = TableField(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)
    started_at: datetime | None = TableField(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = TableField(default=None, sa_type=UTCDateTime)
    heartbeat_at: datetime | None = TableField(
        default=None,
        sa_type=UTCDateTime,
        description="Set while this control plane works on the run; null while an HTTP "
        "pipeline's callback is awaited",
    )
    deadline_at: datetime | None = TableField(default=None, sa_type=UTCDateTime)
    pid: int | None = TableField(default=None, description="The local pipeline's process group")
    host: str | None = TableField(default=None, max_length=255, description="Where `pid` runs")
    export_path: str | None = TableField(default=None, sa_type=Text)
    rows_reference: int = TableField(default=0, sa_type=BigInteger)
    rows_production: int = TableField(default=0, sa_type=BigInteger)
    rows_holdout: int = TableField(default=0, sa_type=BigInteger)
    context: dict[str, Any] | None = TableField(default=None, sa_type=JSONValue)
    logs: str = TableField(default="", sa_type=Text)
    error: str | None = TableField(default=None, sa_type=Text)
    mlflow_run_id: str | None = TableField(default=None, max_length=64)
    registry_model: str | None = TableField(default=None, max_length=256)
    model_version: str | None = TableField(default=None, max_length=32)
    gate: dict[str, Any] | None = TableField(default=None, sa_type=JSONValue)
    gate_passed: bool | None = None


class ModelLineage(SQLModel, table=True):
    """Where a registered version came from: the event, the retraining run, the MLflow run."""

    __tablename__ = "model_lineage"
    __table_args__ = (Index("ix_model_lineage_version", "registry_model", "version"),)

    id: int | None = TableField(default=None, primary_key=True)
    model_id: int = TableField(foreign_key="registered_model.id", ondelete="CASCADE", index=True)
    run_id: int = TableField(
        foreign_key="retraining_run.id", ondelete="CASCADE", unique=True, sa_type=BigIntegerId
    )
    registry_model: str = TableField(max_length=256)
    version: str = TableField(max_length=32)
    source: str = TableField(max_length=16, description="registered or adopted")
    trigger: str = TableField(max_length=16)
    event_uid: str | None = TableField(default=None, max_length=40)
    mlflow_run_id: str | None = TableField(default=None, max_length=64)
    champion_version: str | None = TableField(default=None, max_length=32)
    gate_passed: bool | None = None
    created_at: datetime = TableField(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)


class RetrainingCursor(SQLModel, table=True):
    """How far the retraining trigger has read the event outbox."""

    __tablename__ = "retraining_cursor"

    name: str = TableField(primary_key=True, max_length=32)
    last_event_id: int = TableField(default=0, sa_type=BigInteger)
    updated_at: datetime = TableField(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)


class RetrainRequest(BaseModel):
    """Request body of `POST /api/v1/models/{model}/retraining/runs` (all optional)."""

    model_config = ConfigDict(extra="forbid")

    parameters: dict[str, Any] = Field(
        default_factory=dict, description="Laid over the pipeline's parameters for this run"
    )


class LineagePublic(BaseModel):
    registry_model: str
    version: str
    source: str
    trigger: str
    run_id: int
    event_id: str | None = Field(description="The triggering event")
    mlflow_run_id: str | None
    champion_version: str | None
    gate_passed: bool | None
    created_at: datetime

    @classmethod
    def of(cls, lineage: ModelLineage) -> "LineagePublic":
        fields = set(cls.model_fields) - {"event_id"}
        return cls(event_id=lineage.event_uid, **{f: getattr(lineage, f) for f in fields})


class LineagesPublic(BaseModel):
    data: list[LineagePublic]
    count: int


class RetrainingRunPublic(BaseModel):
    id: int
    kind: str
    status: RetrainStatus
    trigger: RetrainTrigger
    event_id: str | None = Field(description="The triggering event")
    parameters: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    export_path: str | None
    rows_reference: int
    rows_production: int
    rows_holdout: int
    error: str | None
    mlflow_run_id: str | None
    registry_model: str | None
    model_version: str | None
    gate_passed: bool | None

    @classmethod
    def of(cls, run: RetrainingRun) -> "RetrainingRunPublic":
        fields = set(RetrainingRunPublic.model_fields) - {"event_id"}
        return cls(event_id=run.event_uid, **{f: getattr(run, f) for f in fields})


class RetrainingRunDetail(RetrainingRunPublic):
    logs: str
    context: dict[str, Any] | None
    gate: dict[str, Any] | None
    lineage: LineagePublic | None


class RetrainingRunsPublic(BaseModel):
    data: list[RetrainingRunPublic]
    count: int
