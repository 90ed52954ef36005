"""`monitor rollout`: start a canary rollout, read its status, and pause, resume, abort or
promote it, on the store the settings name (through the same services as the API)."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from sqlmodel import Session

    from monitor.entities.registered_model import RegisteredModel
    from monitor.entities.rollout import RolloutPublic


@click.group()
def rollout() -> None:
    """Canary rollouts of a model's candidate endpoint."""


@contextmanager
def _model_session(name: str) -> Iterator[tuple["Session", "RegisteredModel"]]:
    """A session on the configured store and the named model; service errors become CLI
    errors (exit 1, the message alone)."""
    from pydantic import ValidationError
    from sqlmodel import Session

    from monitor.services import models
    from monitor.services.errors import Conflict, NotFound, Unprocessable
    from monitor.settings import get_settings
    from monitor.store.engine import make_engine

    engine = make_engine(get_settings().resolved_database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session, models.get_model(session=session, name=name)
    except (NotFound, Conflict, Unprocessable) as error:
        raise click.ClickException(str(error)) from error
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, item['loc']))}: {item['msg']}"
            for item in error.errors(include_url=False)
        )
        raise click.ClickException(problems) from error
    finally:
        engine.dispose()


def _steps(_: click.Context, __: click.Parameter, value: str) -> list[int]:
    try:
        return [int(step) for step in value.split(",")]
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a comma-separated list of percents, e.g. 5,25,50,100"
        ) from None


def _echo(public: "RolloutPublic") -> None:
    click.echo(
        f"rollout {public.id} of {public.model}: {public.state} at {public.weight}% "
        f"(step {public.step_index + 1} of {len(public.steps)}: {public.steps}), "
        f"version {public.stable_version or '?'} -> {public.candidate_version}, "
        f"{public.failed_checks} of {public.max_failed_checks} failed checks spent"
    )
    if public.reason:
        click.echo(f"reason: {public.reason}")


@rollout.command()
@click.option("--model", required=True, help="Registered model name.")
@click.option("--candidate-endpoint", required=True, help="Endpoint serving the candidate.")
@click.option("--candidate-version", default=None, help="Default: @challenger in MLflow.")
@click.option("--stable-endpoint", default=None, help="Default: the model's stable endpoint.")
@click.option(
    "--steps", default="5,25,50,100", show_default=True, callback=_steps, help="Canary weights."
)
@click.option("--bake-seconds", default=60, show_default=True, type=int, help="Time per step.")
@click.option("--shadow-seconds", default=0, show_default=True, type=int)
@click.option("--min-requests", default=50, show_default=True, type=int)
@click.option("--max-failed-checks", default=2, show_default=True, type=int)
def start(
    model: str,
    candidate_endpoint: str,
    candidate_version: str | None,
    stable_endpoint: str | None,
    steps: list[int],
    bake_seconds: int,
    shadow_seconds: int,
    min_requests: int,
    max_failed_checks: int,
) -> None:
    """Start a canary rollout; the scheduler of `monitor serve` drives it from there."""
    from monitor.entities.rollout import RolloutIn
    from monitor.services import rollouts
    from monitor.settings import get_settings

    with _model_session(model) as (session, found):
        rollout_in = RolloutIn(
            candidate_endpoint=candidate_endpoint,
            candidate_version=candidate_version,
            stable_endpoint=stable_endpoint,
            steps=steps,
            bake_seconds=bake_seconds,
            shadow_seconds=shadow_seconds,
            min_requests=min_requests,
            max_failed_checks=max_failed_checks,
        )
        started = rollouts.start_rollout(
            session=session, settings=get_settings(), model=found, rollout_in=rollout_in
        )
    _echo(started)


@rollout.command()
@click.option("--model", required=True, help="Registered model name.")
@click.option("--json", "as_json", is_flag=True, help="Print the rollout as the API returns it.")
def status(model: str, as_json: bool) -> None:
    """The model's newest rollout, its transitions and the checks of its current step."""
    from monitor.services import rollouts

    with _model_session(model) as (session, found):
        newest, _ = rollouts.list_rollouts(session=session, model=found, limit=1)
        if not newest:
            raise click.ClickException(f"model {model!r} has had no rollout")
        public = newest[0]
        checks, _ = rollouts.list_checks(session=session, model=found, rollout_id=public.id)
    if as_json:
        click.echo(public.model_dump_json(indent=2))
        return
    _echo(public)
    for step in public.transitions:
        click.echo(
            f"  {step.time:%Y-%m-%d %H:%M:%S} {step.state:<12} {step.weight:>3}%  {step.reason}"
        )
    for check in checks[-4:]:
        click.echo(f"  check {check.name:<15} {check.outcome:<12} {check.detail}")


def _action_command(name: str, help_text: str) -> Callable[[str], None]:
    @rollout.command(name=name, help=help_text)
    @click.option("--model", required=True, help="Registered model name.")
    def command(model: str) -> None:
        from monitor.services import rollouts
        from monitor.settings import get_settings

        with _model_session(model) as (session, found):
            active = rollouts.active_rollout(session=session, model=found)
            assert active.id is not None
            done = rollouts.act(
                session=session,
                settings=get_settings(),
                model=found,
                rollout_id=active.id,
                action=rollouts.Action(name),
            )
        _echo(done)

    return command


_action_command("pause", "Pause the active rollout: weights stay, the step clock stops.")
_action_command("resume", "Resume the paused rollout; its step bakes again from now.")
_action_command("abort", "Abort the active rollout: all traffic back to stable, aliases kept.")
_action_command("promote", "Promote now: @champion to the candidate, all traffic to it.")
