"""Retraining pipelines and runs: configuring a model's pipeline, requesting runs (with the
one-at-a-time rule and the cooldown), reading runs and lineage, and the signed completion
callback of HTTP pipelines."""

import json
import logging
import secrets
import time
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from monitor.entities.event import Event, EventType, Severity
from monitor.entities.registered_model import RegisteredModel
from monitor.entities.retraining import (
    ACTIVE_STATUSES,
    LineagePublic,
    ModelLineage,
    PipelineConfigured,
    PipelineIn,
    PipelineKind,
    PipelinePublic,
    RetrainingPipeline,
    RetrainingRun,
    RetrainingRunDetail,
    RetrainingRunPublic,
    RetrainStatus,
    RetrainTrigger,
)
from monitor.retraining.executor import (
    PipelineKindForbidden,
    check_kind_allowed,
    finalise_or_fail,
    run_directory,
)
from monitor.retraining.export import TRAINING_FILE
from monitor.retraining.lifecycle import finish, heartbeat, record_run_event
from monitor.security.masking import mask, redact_signed_links
from monitor.services.errors import Conflict, NotFound, Unprocessable
from monitor.settings import Settings
from monitor.store.types import utc_now
from triggers.registry import check_rules
from triggers.registry.gate import GateRule
from triggers.retraining import PipelineResult, ResultError, verify_callback, verify_link

log = logging.getLogger(__name__)


class CoolingDown(Conflict):
    """An automatic trigger inside the cooldown after the model's last run (409)."""


def _public(pipeline: RetrainingPipeline, model: RegisteredModel) -> PipelinePublic:
    spec = pipeline.spec
    return PipelinePublic(
        **spec.model_dump(exclude={"env"}),
        env={name: mask(value) for name, value in spec.env.items()},
        model=model.name,
        callback_secret_set=pipeline.callback_secret is not None,
        created_at=pipeline.created_at,
        updated_at=pipeline.updated_at,
    )


def _check_gate(pipeline_in: PipelineIn, model: RegisteredModel) -> None:
    if pipeline_in.gate.rules is None:
        return
    rules = tuple(
        GateRule(rule.metric, rule.rule, rule.threshold, rule.relative)
        for rule in pipeline_in.gate.rules
    )
    try:
        check_rules(model.task, rules)
    except ValueError as error:
        raise Unprocessable("gate", f"gate.{error}") from error


def configure_pipeline(
    *, session: Session, settings: Settings, model: RegisteredModel, pipeline_in: PipelineIn
) -> PipelineConfigured:
    """Create or replace the model's pipeline. An HTTP pipeline keeps its callback secret
    unless a new one is given; one is generated (and returned only now) if it has none."""
    try:
        check_kind_allowed(pipeline_in.kind, settings)
    except PipelineKindForbidden as error:
        raise Unprocessable("kind", str(error)) from error
    _check_gate(pipeline_in, model)
    pipeline = session.exec(
        select(RetrainingPipeline).where(RetrainingPipeline.model_id == model.id)
    ).first()
    if pipeline is None:
        pipeline = RetrainingPipeline(model_id=model.id, kind=pipeline_in.kind, config={})  # type: ignore[arg-type]
    generated = None
    if pipeline_in.kind is not PipelineKind.HTTP:
        pipeline.callback_secret = None
    elif pipeline_in.callback_secret is not None:
        pipeline.callback_secret = pipeline_in.callback_secret
    elif pipeline.callback_secret is None:
        pipeline.callback_secret = generated = secrets.token_urlsafe(32)
    pipeline.kind = pipeline_in.kind
    pipeline.config = pipeline_in.model_dump(mode="json", exclude={"callback_secret", "enabled"})
    pipeline.enabled = pipeline_in.enabled
    pipeline.updated_at = utc_now()
    session.add(pipeline)
    session.commit()
    session.refresh(pipeline)
    return PipelineConfigured(**_public(pipeline, model).model_dump(), callback_secret=generated)


def get_pipeline(*, session: Session, model: RegisteredModel) -> RetrainingPipeline:
    pipeline = session.exec(
        select(RetrainingPipeline).where(RetrainingPipeline.model_id == model.id)
    ).first()
    if pipeline is None:
        raise NotFound(
            f"model {model.name!r} has no retraining pipeline; configure one with "
            f"PUT /api/v1/models/{model.name}/pipeline"
        )
    return pipeline


def read_pipeline(*, session: Session, model: RegisteredModel) -> PipelinePublic:
    return _public(get_pipeline(session=session, model=model), model)


def _active_run(session: Session, model_id: int) -> RetrainingRun | None:
    return session.exec(
        select(RetrainingRun)
        .where(RetrainingRun.model_id == model_id)
        .where(col(RetrainingRun.status).in_(ACTIVE_STATUSES))
    ).first()


def _check_cooldown(
    session: Session, model: RegisteredModel, pipeline: RetrainingPipeline, now: datetime
) -> None:
    last = session.exec(
        select(func.max(RetrainingRun.created_at)).where(RetrainingRun.model_id == model.id)
    ).one()
    if last is None:
        return
    until = last + pipeline.spec.cooldown_delta
    if now < until:
        raise CoolingDown(
            f"model {model.name!r} is cooling down after its last retraining run until "
            f"{until.isoformat()} (cooldown {pipeline.spec.cooldown}); trigger by hand to "
            "override, or shorten the pipeline's cooldown"
        )


def request_run(
    *,
    session: Session,
    model: RegisteredModel,
    trigger: RetrainTrigger,
    event: Event | None = None,
    parameters: dict[str, Any] | None = None,
    start: bool = False,
) -> RetrainingRun:
    """Queue a run (or, with `start`, record it as started by the caller, who executes it at
    once: the scheduler cannot take it meanwhile). Refused (Conflict) while the model has one
    queued or running (the database guarantees it), when the event already started one, or
    (CoolingDown) for an event-triggered run inside the cooldown. Manual and scheduled runs
    ignore the cooldown."""
    pipeline = get_pipeline(session=session, model=model)
    if not pipeline.enabled:
        raise Conflict(
            f"the retraining pipeline of {model.name!r} is disabled; enable it with "
            f"PUT /api/v1/models/{model.name}/pipeline"
        )
    if trigger is RetrainTrigger.EVENT:
        _check_cooldown(session, model, pipeline, utc_now())
    run = RetrainingRun(
        model_id=model.id,  # type: ignore[arg-type]
        pipeline_id=pipeline.id,  # type: ignore[arg-type]
        kind=pipeline.kind,
        status=RetrainStatus.QUEUED,
        trigger=trigger,
        event_id=event.id if event else None,
        event_uid=event.uid if event else None,
        parameters={**pipeline.spec.parameters, **(parameters or {})},
    )
    if start:
        run.status = RetrainStatus.RUNNING
        run.started_at = run.heartbeat_at = utc_now()
        run.deadline_at = run.started_at + pipeline.spec.timeout_delta
    session.add(run)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise _refusal(session, model, event) from None
    record_run_event(session, run, EventType.RETRAIN_REQUESTED, Severity.INFO)
    if start:
        record_run_event(session, run, EventType.RETRAIN_STARTED, Severity.INFO)
    session.commit()
    session.refresh(run)
    return run


def _refusal(session: Session, model: RegisteredModel, event: Event | None) -> Conflict:
    active = _active_run(session, model.id)  # type: ignore[arg-type]
    if active is not None:
        return Conflict(
            f"model {model.name!r} already has retraining run {active.id} {active.status}; "
            "at most one runs at a time: wait for it to finish"
        )
    if event is not None:
        return Conflict(f"event {event.uid} already started a retraining run of {model.name!r}")
    return Conflict(f"a retraining run of {model.name!r} could not be queued; try again")


def list_runs(
    *,
    session: Session,
    model: RegisteredModel,
    status: RetrainStatus | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[RetrainingRunPublic], int]:
    query = select(RetrainingRun).where(RetrainingRun.model_id == model.id)
    if status is not None:
        query = query.where(RetrainingRun.status == status)
    count = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(RetrainingRun.id).desc()).offset(offset).limit(limit)
    ).all()
    return [RetrainingRunPublic.of(row) for row in rows], count


def _get_run(session: Session, model: RegisteredModel, run_id: int) -> RetrainingRun:
    run = session.get(RetrainingRun, run_id)
    if run is None or run.model_id != model.id:
        raise NotFound(f"model {model.name!r} has no retraining run {run_id}")
    return run


def get_run(*, session: Session, model: RegisteredModel, run_id: int) -> RetrainingRunDetail:
    run = _get_run(session, model, run_id)
    lineage = session.exec(select(ModelLineage).where(ModelLineage.run_id == run_id)).first()
    # The context and logs can hold the training-data link, which downloads without a key.
    context = (
        None if run.context is None else json.loads(redact_signed_links(json.dumps(run.context)))
    )
    return RetrainingRunDetail(
        **RetrainingRunPublic.of(run).model_dump(),
        logs=redact_signed_links(run.logs),
        context=context,
        gate=run.gate,
        lineage=LineagePublic.of(lineage) if lineage else None,
    )


def list_lineage(
    *, session: Session, model: RegisteredModel, offset: int = 0, limit: int = 100
) -> tuple[list[LineagePublic], int]:
    query = select(ModelLineage).where(ModelLineage.model_id == model.id)
    count = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(ModelLineage.id).desc()).offset(offset).limit(limit))
    return [LineagePublic.of(row) for row in rows], count


class CallbackIn(BaseModel):
    """Body of `POST /api/v1/retraining/runs/{run_id}/callback`, signed with the pipeline's
    callback secret."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["succeeded", "failed"]
    mlflow_run_id: str | None = None
    model_uri: str | None = Field(
        default=None,
        pattern=r"^(models|runs):/",
        examples=["models:/m-0123abcd"],
        description="`models:/...` or `runs:/...` on the control plane's MLflow tracking "
        "server; nothing else is loaded (a path or URL could be any code)",
    )
    registered_version: str | None = None
    message: str = Field(default="", max_length=4000, description="Why it failed, if it did")
    logs: str = Field(default="", description="The end of the pipeline's logs, for the run")


def _callback_secret(engine: Engine, run_id: int) -> str:
    """The secret that signs what the HTTP pipeline of run `run_id` sends (404/409 if none)."""
    with Session(engine) as session:
        run = session.get(RetrainingRun, run_id)
        if run is None:
            raise NotFound(f"there is no retraining run {run_id}")
        pipeline = session.get_one(RetrainingPipeline, run.pipeline_id)
    if run.kind != PipelineKind.HTTP or pipeline.callback_secret is None:
        raise Conflict(f"retraining run {run_id} is not an HTTP pipeline's; it takes no callback")
    return pipeline.callback_secret


def accept_callback(
    *,
    engine: Engine,
    settings: Settings,
    run_id: int,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
) -> RetrainingRunPublic:
    """Verify the signature, then end the run (failed) or register and gate what it logged."""
    verify_callback(
        _callback_secret(engine, run_id),
        timestamp=timestamp,
        signature=signature,
        body=body,
        now=time.time(),
        tolerance_seconds=settings.retraining_callback_tolerance_seconds,
    )
    try:
        callback = CallbackIn.model_validate(json.loads(body))
    except json.JSONDecodeError as error:
        raise Unprocessable("body", f"the callback body is not JSON ({error})") from error
    with Session(engine) as session:
        run = session.get_one(RetrainingRun, run_id, with_for_update=True)
        if run.status != RetrainStatus.RUNNING or run.heartbeat_at is not None:
            raise Conflict(
                f"retraining run {run_id} is {run.status}"
                + (" and already reported" if run.status == RetrainStatus.RUNNING else "")
                + "; it takes no further callback"
            )
        run.heartbeat_at = utc_now()  # finalising here now: a second callback is refused
        run.logs += callback.logs
        session.add(run)
        session.commit()
        logs = run.logs
    with heartbeat(engine, run_id, settings.retraining_heartbeat_seconds):
        if callback.status == "failed":
            reason = callback.message or "the orchestrator reported the pipeline failed"
            finish(engine, run_id, RetrainStatus.FAILED, error=reason, logs=logs)
        else:
            _finalise_reported(engine, settings, run_id, callback, logs)
    with Session(engine) as session:
        return RetrainingRunPublic.of(session.get_one(RetrainingRun, run_id))


def _finalise_reported(
    engine: Engine, settings: Settings, run_id: int, callback: CallbackIn, logs: str
) -> None:
    try:
        result = PipelineResult.from_mapping(
            callback.model_dump(include={"mlflow_run_id", "model_uri", "registered_version"})
        )
    except ResultError as error:
        finish(engine, run_id, RetrainStatus.FAILED, error=str(error), logs=logs)
        return
    finalise_or_fail(engine, settings, run_id, result, logs=logs)


def training_data_path(
    *, engine: Engine, settings: Settings, run_id: int, expires: int, signature: str
) -> str:
    """The export file behind a signed link (see executor._link)."""
    verify_link(
        _callback_secret(engine, run_id),
        path=f"/api/v1/retraining/runs/{run_id}/training-data",
        expires=expires,
        signature=signature,
        now=time.time(),
    )
    path = run_directory(settings, run_id) / TRAINING_FILE
    if not path.exists():
        raise NotFound(f"the training data of retraining run {run_id} is gone")
    return str(path)
