"""`monitor retrain`: one retraining run of a model, executed in this process, then reported."""

import json
import sys
from typing import Any

import click
from sqlmodel import Session

from monitor.entities.retraining import PipelineKind, RetrainStatus, RetrainTrigger
from monitor.retraining.executor import execute_run
from monitor.services import models
from monitor.services.errors import Conflict, NotFound
from monitor.services.retraining import request_run
from monitor.settings import Settings
from monitor.store.engine import make_engine

GATE_FAILED = 2


def parse_parameters(params: tuple[str, ...]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE, e.g. shuffle_labels=true")
        try:
            parsed[key] = json.loads(value)
        except json.JSONDecodeError:
            parsed[key] = value
    return parsed


def retrain_here(settings: Settings, model_name: str, params: tuple[str, ...]) -> None:
    parameters = parse_parameters(params)
    engine = make_engine(settings.resolved_database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            model = models.get_model(session=session, name=model_name)
            run = request_run(
                session=session,
                model=model,
                trigger=RetrainTrigger.MANUAL,
                parameters=parameters,
                start=True,  # ours from the start: a scheduler elsewhere must not take it
            )
    except (NotFound, Conflict) as error:
        raise click.ClickException(str(error)) from error
    assert run.id is not None
    click.echo(f"retraining run {run.id} of {model_name}: running the {run.kind} pipeline")
    done = execute_run(engine, settings, run.id, claimed=True)
    engine.dispose()
    click.echo(f"status: {done.status}")
    if done.error:
        click.echo(f"error: {done.error}")
    if done.status is RetrainStatus.RUNNING and done.kind == PipelineKind.HTTP:
        click.echo("triggered; the run ends when the orchestrator calls back")
        return
    if done.model_version is not None:
        click.echo(
            f"registered: {done.registry_model} version {done.model_version} "
            f"(MLflow run {done.mlflow_run_id})"
        )
    if done.gate is not None:
        click.echo(f"gate: {done.gate['verdict']} - {done.gate['reason']}")
        if done.gate_passed:
            click.echo(f"@challenger -> {done.registry_model} version {done.model_version}")
    if done.status is not RetrainStatus.SUCCEEDED:
        if done.logs:
            click.echo("--- end of the pipeline's log ---", err=True)
            click.echo(done.logs[-4000:], err=True)
        sys.exit(1)
    if not done.gate_passed:
        sys.exit(GATE_FAILED)
