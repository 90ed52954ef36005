"""Executing a retraining run: claim it, export the training data, run the pipeline (or trigger
it over HTTP), then register or adopt the version it logged, run the validation gate and set
`@challenger` when it passes. Every state change is committed with its event."""

import json
import logging
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq
from sqlalchemy import Engine
from sqlmodel import Session, select

from monitor.entities.event import Event, EventType, Severity
from monitor.entities.registered_model import RegisteredModel
from monitor.entities.retraining import (
    ModelLineage,
    PipelineBase,
    PipelineKind,
    RetrainingPipeline,
    RetrainingRun,
    RetrainStatus,
)
from monitor.retraining.candidate_reference import (
    champion_reference_id,
    store_candidate_reference,
)
from monitor.retraining.context import (
    CONTEXT_FILE,
    LOG_FILE,
    RESULT_FILE,
    MlflowTarget,
    pipeline_context,
    pipeline_environment,
)
from monitor.retraining.export import (
    HOLDOUT_FILE,
    LABEL,
    ExportSummary,
    build_export,
    training_window,
)
from monitor.retraining.lifecycle import claim, finish, heartbeat, record_run_event
from monitor.settings import Settings
from triggers.registry import GateRule, Metric, RuleKind, default_rules
from triggers.retraining import (
    HttpStyle,
    HttpTrigger,
    PipelineResult,
    ProcessStatus,
    PythonEntryPoint,
    ResultError,
    ShellCommand,
    SignatureRejected,
    TriggerFailed,
    read_result,
    run_process,
    sign_link,
)

if TYPE_CHECKING:
    from triggers.registry.mlflow_registry import Registry

log = logging.getLogger(__name__)

LINEAGE_TAG = "monitor."


def run_directory(settings: Settings, run_id: int) -> Path:
    return (settings.data_dir / "retraining" / str(run_id)).resolve()


def registry_for(settings: Settings) -> "Registry":
    from triggers.registry.child_scoring import ChildScoring, child_environment
    from triggers.registry.mlflow_registry import Registry  # mlflow is slow to import

    scoring = ChildScoring(
        timeout_seconds=settings.retraining_gate_timeout_seconds,
        env=child_environment(settings.inherited_pipeline_env),
    )
    return Registry(
        settings.resolved_mlflow_tracking_uri,
        artifact_root=settings.resolved_mlflow_artifact_root,
        scoring=scoring,
    )


def describe_error(error: Exception) -> str:
    """The run's error text: our own errors already name the field and the fix."""
    from triggers.registry.mlflow_registry import RegistryError

    if isinstance(error, RegistryError | ResultError | TriggerFailed | SignatureRejected):
        return str(error)
    return f"internal error ({type(error).__name__}): {error}"


@dataclass(frozen=True, slots=True)
class Prepared:
    run_id: int
    spec: PipelineBase
    directory: Path
    mlflow: MlflowTarget
    context: dict[str, Any]
    callback_secret: str | None


def load_run(engine: Engine, run_id: int) -> RetrainingRun:
    with Session(engine, expire_on_commit=False) as session:
        return session.get_one(RetrainingRun, run_id)


def _link(settings: Settings, secret: str | None, run_id: int) -> str | None:
    """A signed, expiring link to the training data, for pipelines that run elsewhere."""
    if secret is None:
        return None
    path = f"/api/v1/retraining/runs/{run_id}/training-data"
    expires = int(time.time() + settings.retraining_link_seconds)
    signature = sign_link(secret, path, expires)
    return f"{settings.public_url.rstrip('/')}{path}?expires={expires}&signature={signature}"


def prepare(engine: Engine, settings: Settings, run_id: int) -> Prepared:
    """Export the training data and write the context; committed on the run."""
    with Session(engine, expire_on_commit=False) as session:
        run = session.get_one(RetrainingRun, run_id)
        model = session.get_one(RegisteredModel, run.model_id)
        pipeline = session.get_one(RetrainingPipeline, run.pipeline_id)
        event = session.get(Event, run.event_id) if run.event_id is not None else None
        reference_id = champion_reference_id(session, model)
    spec = pipeline.spec
    directory = run_directory(settings, run_id)
    assert run.started_at is not None
    with engine.connect() as connection:
        export = build_export(
            connection,
            model_id=model.id,  # type: ignore[arg-type]
            schema=model.data_schema,
            window=training_window(spec.training_window, run.started_at),
            holdout_fraction=spec.gate.holdout_fraction,
            directory=directory,
            reference_id=reference_id,
        )
    experiment = spec.experiment or f"retraining/{model.name}"
    mlflow = MlflowTarget(
        tracking_uri=settings.resolved_mlflow_tracking_uri,
        experiment_id=registry_for(settings).ensure_experiment(experiment),
        experiment_name=experiment,
        registered_model=spec.registry_model or model.name,
    )
    secret = pipeline.callback_secret if spec.kind is PipelineKind.HTTP else None
    context = pipeline_context(
        run=run,
        model=model,
        event=event,
        export=export,
        mlflow=mlflow,
        training_data_url=_link(settings, secret, run_id),
    )
    (directory / CONTEXT_FILE).write_text(json.dumps(context, indent=2), encoding="utf-8")
    _record_export(engine, run_id, export, context, mlflow.registered_model)
    return Prepared(run_id, spec, directory, mlflow, context, secret)


def _record_export(
    engine: Engine,
    run_id: int,
    export: ExportSummary,
    context: dict[str, Any],
    registry_model: str,
) -> None:
    with Session(engine) as session:
        run = session.get_one(RetrainingRun, run_id, with_for_update=True)
        run.export_path = str(export.training_path)
        run.rows_reference = export.rows_reference
        run.rows_production = export.rows_production
        run.rows_holdout = export.rows_holdout
        run.context = context
        run.registry_model = registry_model
        session.add(run)
        session.commit()


def _record_pid(engine: Engine, run_id: int, pid: int) -> None:
    with Session(engine) as session:
        run = session.get_one(RetrainingRun, run_id)
        run.pid, run.host = pid, socket.gethostname()
        session.add(run)
        session.commit()


def _run_local(engine: Engine, settings: Settings, prepared: Prepared) -> None:
    spec = prepared.spec
    local: PythonEntryPoint | ShellCommand
    if spec.kind is PipelineKind.PYTHON:
        assert spec.entry_point is not None
        local = PythonEntryPoint(spec.entry_point, spec.python or sys.executable)
    else:
        assert spec.command is not None
        local = ShellCommand(spec.command)
    outcome = run_process(
        local.argv(),
        env=pipeline_environment(
            inherited=settings.inherited_pipeline_env,
            extra=spec.env,
            directory=prepared.directory,
            mlflow=prepared.mlflow,
            run_id=prepared.run_id,
        ),
        cwd=Path(spec.working_dir) if spec.working_dir else None,
        timeout_seconds=spec.timeout_delta.total_seconds(),
        log_path=prepared.directory / LOG_FILE,
        max_log_bytes=settings.retraining_max_log_bytes,
        on_start=lambda pid: _record_pid(engine, prepared.run_id, pid),
    )
    if outcome.status is not ProcessStatus.SUCCEEDED:
        status = (
            RetrainStatus.TIMED_OUT
            if outcome.status is ProcessStatus.TIMED_OUT
            else RetrainStatus.FAILED
        )
        finish(
            engine,
            prepared.run_id,
            status,
            error=f"the pipeline {outcome.message}",
            logs=outcome.log_tail,
        )
        return
    try:
        result = read_result(prepared.directory / RESULT_FILE)
    except ResultError as error:
        finish(
            engine, prepared.run_id, RetrainStatus.FAILED, error=str(error), logs=outcome.log_tail
        )
        return
    finalise_or_fail(engine, settings, prepared.run_id, result, logs=outcome.log_tail)


def _trigger_http(engine: Engine, prepared: Prepared, settings: Settings) -> None:
    spec = prepared.spec
    assert spec.url is not None
    authorization = None
    if spec.authorization_env:
        authorization = os.environ.get(spec.authorization_env)
        if not authorization:
            raise TriggerFailed(
                f"authorization_env: the environment variable {spec.authorization_env} is not "
                "set in the control plane's environment; set it or remove authorization_env"
            )
    trigger = HttpTrigger(
        url=spec.url,
        style=spec.style or HttpStyle.GENERIC,
        event_type=spec.event_type or "monitor-retrain",
        authorization=authorization,
        allow_private=settings.egress_allow_private,
    )
    base = settings.public_url.rstrip("/")
    payload = {
        "run_id": prepared.run_id,
        "model": prepared.context["model"]["name"],
        "callback_url": f"{base}/api/v1/retraining/runs/{prepared.run_id}/callback",
        "training_data_url": prepared.context["data"]["url"],
        "context": prepared.context,
    }
    # Waiting for the callback from here on: cleared before the request, so a fast callback
    # finds the run ready for it. A crash from now on ends as timed_out at the deadline.
    with Session(engine) as session:
        run = session.get_one(RetrainingRun, prepared.run_id, with_for_update=True)
        run.heartbeat_at = None
        run.logs = f"triggering the {trigger.style} pipeline at {trigger.url}\n"
        session.add(run)
        session.commit()
    status_code = trigger.send(prepared.run_id, payload)
    with Session(engine) as session:
        run = session.get_one(RetrainingRun, prepared.run_id, with_for_update=True)
        deadline = run.deadline_at.isoformat() if run.deadline_at else "the timeout"
        run.logs += (
            f"the orchestrator accepted it (HTTP {status_code}); waiting for the completion "
            f"callback until {deadline}\n"
        )
        session.add(run)
        session.commit()


def execute_run(
    engine: Engine, settings: Settings, run_id: int, *, claimed: bool = False
) -> RetrainingRun:
    """Run a queued run to its end (or, for HTTP pipelines, until the trigger is sent).
    `claimed`: the caller requested it already started (see `request_run(start=True)`)."""
    with Session(engine) as session:
        run = session.get_one(RetrainingRun, run_id)
        spec = session.get_one(RetrainingPipeline, run.pipeline_id).spec
    if not claimed and not claim(engine, run_id, spec.timeout_delta):
        return load_run(engine, run_id)
    try:
        check_kind_allowed(spec.kind, settings)
        with heartbeat(engine, run_id, settings.retraining_heartbeat_seconds):
            prepared = prepare(engine, settings, run_id)
            if spec.kind is PipelineKind.HTTP:
                _trigger_http(engine, prepared, settings)
            else:
                _run_local(engine, settings, prepared)
    except Exception as error:
        log.exception("retraining run %s failed", run_id)
        finish(engine, run_id, RetrainStatus.FAILED, error=describe_error(error))
    return load_run(engine, run_id)


class PipelineKindForbidden(ValueError):
    """The pipeline's kind is not in MONITOR_RETRAINING_PIPELINE_KINDS."""


def check_kind_allowed(kind: PipelineKind, settings: Settings) -> None:
    allowed = settings.allowed_pipeline_kinds
    if kind not in allowed:
        raise PipelineKindForbidden(
            f"kind: '{kind}' pipelines are not allowed on this control plane (allowed: "
            f"{', '.join(allowed)}); use an allowed kind, or have the operator add it to "
            "MONITOR_RETRAINING_PIPELINE_KINDS"
        )


def _lineage_tags(
    run: RetrainingRun, model: RegisteredModel, result: PipelineResult
) -> dict[str, str]:
    tags = {
        "model": model.name,
        "retraining_run": str(run.id),
        "trigger": str(run.trigger),
        "event": run.event_uid,
        "mlflow_run": result.mlflow_run_id,
    }
    return {f"{LINEAGE_TAG}{key}": value for key, value in tags.items() if value}


def _gate_rules(spec: PipelineBase, task: str) -> tuple[GateRule, ...]:
    if spec.gate.rules is None:
        return default_rules(task)
    return tuple(
        GateRule(Metric(rule.metric), RuleKind(rule.rule), rule.threshold, rule.relative)
        for rule in spec.gate.rules
    )


def finalise(
    engine: Engine, settings: Settings, run_id: int, result: PipelineResult, *, logs: str
) -> None:
    """Register (or adopt) the version, run the gate, set @challenger if it passes; the run
    ends `succeeded` whatever the verdict (the verdict is the gate's, not the pipeline's)."""
    from triggers.registry.mlflow_registry import CHALLENGER

    with Session(engine, expire_on_commit=False) as session:
        run = session.get_one(RetrainingRun, run_id)
        model = session.get_one(RegisteredModel, run.model_id)
        spec = session.get_one(RetrainingPipeline, run.pipeline_id).spec
    name = run.registry_model or spec.registry_model or model.name
    registry = registry_for(settings)
    tags = _lineage_tags(run, model, result)
    if result.registered_version:
        version = registry.adopt(
            name=name, version=result.registered_version, run_id=result.mlflow_run_id, tags=tags
        )
        source = "adopted"
    else:
        version = registry.register(
            name=name, model_uri=result.model_uri, run_id=result.mlflow_run_id, tags=tags
        )
        source = "registered"
    mlflow_run_id = result.mlflow_run_id or version.run_id
    with Session(engine) as session:
        run = session.get_one(RetrainingRun, run_id, with_for_update=True)
        run.registry_model, run.model_version = name, version.version
        run.mlflow_run_id, run.logs = mlflow_run_id, logs
        session.add(run)
        session.add(
            ModelLineage(
                model_id=run.model_id,
                run_id=run_id,
                registry_model=name,
                version=version.version,
                source=source,
                trigger=run.trigger,
                event_uid=run.event_uid,
                mlflow_run_id=mlflow_run_id,
            )
        )
        record_run_event(
            session,
            run,
            EventType.MODEL_REGISTERED,
            Severity.INFO,
            registry_model=name,
            model_version=version.version,
            source=source,
            mlflow_run_id=mlflow_run_id,
        )
        session.commit()
    directory = run_directory(settings, run_id)
    holdout = pq.read_table(directory / HOLDOUT_FILE)
    frame = holdout.select(model.data_schema.feature_names).to_pandas()
    # One child scores candidate and champion: the candidate's scores also make its reference.
    scored = registry.predict_each(
        name,
        registry.gate_versions(name, version.version),
        frame,
        model.task,
        model.class_labels or [],
    )
    candidate = scored[version.version]
    if isinstance(candidate, Exception):
        log.warning("version %s of %r could not score its held-out records", version.version, name)
    gate = registry.validate(
        name=name,
        candidate_version=version.version,
        holdout=frame,
        truth=holdout.column(LABEL).to_pylist(),
        task=model.task,
        class_labels=model.class_labels or [],
        rules=_gate_rules(spec, model.task),
        min_holdout_rows=spec.gate.min_holdout_rows,
        scored=scored,
    )
    reference = store_candidate_reference(
        engine,
        directory=directory,
        rows_per_chunk=settings.reference_chunk_rows,
        run_id=run_id,
        model=model,
        version=version.version,
        holdout=holdout,
        scored=None if isinstance(candidate, Exception) else candidate,
        result=result,
    )
    if gate.passed:
        registry.set_alias(name, CHALLENGER, version.version)
    verdict = "passed" if gate.passed else "failed"
    registry.set_tags(name, version.version, {f"{LINEAGE_TAG}gate": verdict})

    def record_gate(session: Session, run: RetrainingRun) -> None:
        run.gate, run.gate_passed = gate.to_dict(), gate.passed
        lineage = session.exec(select(ModelLineage).where(ModelLineage.run_id == run_id)).one()
        lineage.gate_passed, lineage.champion_version = gate.passed, gate.champion_version
        session.add(lineage)
        record_run_event(
            session,
            run,
            EventType.VALIDATION_PASSED if gate.passed else EventType.VALIDATION_FAILED,
            Severity.INFO if gate.passed else Severity.WARNING,
            registry_model=name,
            model_version=version.version,
            champion_version=gate.champion_version,
            verdict=verdict,
            reason=gate.reason,
            challenger_set=gate.passed,
            metrics={"candidate": gate.candidate_metrics, "champion": gate.champion_metrics},
            reference_id=reference.id,
            reference=reference.describe(),
        )

    finish(engine, run_id, RetrainStatus.SUCCEEDED, apply=record_gate)


def finalise_or_fail(
    engine: Engine, settings: Settings, run_id: int, result: PipelineResult, *, logs: str
) -> None:
    """`finalise`, ending the run `failed` (logs kept) when MLflow or the gate cannot be run."""
    try:
        finalise(engine, settings, run_id, result, logs=logs)
    except Exception as error:
        log.exception("retraining run %s: registering or validating the version failed", run_id)
        finish(engine, run_id, RetrainStatus.FAILED, error=describe_error(error), logs=logs)
