"""The `monitor` command line: serve, scheduler, worker, backfill, retrain, migrate, keys."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click
from sqlalchemy import make_url

from monitor.entities.api_key import Scope
from monitor.rollouts.cli import rollout
from monitor.settings import get_settings
from monitor.sidecar.cli import sidecar

if TYPE_CHECKING:
    from sqlmodel import Session

_TIMES = ["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


@click.group()
def main() -> None:
    """Model monitoring and auto-retraining control plane."""
    from pydantic import ValidationError

    from monitor.logs import LogFormat, LogLevel, configure_logging

    try:
        settings = get_settings()
    except ValidationError:
        # The command reads the settings again and reports what is wrong with them.
        configure_logging(LogFormat.TEXT, LogLevel.INFO)
        return
    configure_logging(settings.log_format, settings.log_level)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to bind.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="API worker processes on the one port (PostgreSQL only above 1); the scheduler is "
    "elected once across them.",
)
def serve(host: str, port: int, workers: int) -> None:
    """Run the API, the dashboard and the scheduler (elected once) on one port."""
    settings = get_settings()
    if workers > 1 and make_url(settings.resolved_database_url).get_backend_name() == "sqlite":
        raise click.UsageError(
            f"--workers {workers} needs PostgreSQL: SQLite takes one writer at a time, so "
            "more processes only queue on its lock. Set MONITOR_DATABASE_URL="
            "postgresql+psycopg://user@host/db, or serve with --workers 1.",
            click.get_current_context(),
        )
    import uvicorn

    from monitor.api.workers import FACTORY, HEALTHCHECK_SECONDS, prepare_workers

    prepare_workers(host, port)
    logging.getLogger(__name__).info(
        "store: %s; %d API worker(s)", settings.shown_database_url, workers
    )
    uvicorn.run(
        FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,  # the service's own logging (text or JSON) carries uvicorn's lines
        access_log=False,
        timeout_worker_healthcheck=HEALTHCHECK_SECONDS,
    )


@main.command()
@click.option(
    "--workdir",
    default="demo",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the demo's stores and logs (emptied of an earlier demo first).",
)
@click.option("--port", default=8000, show_default=True, type=int, help="Control plane port.")
@click.option("--fast", is_flag=True, help="Shorter acts, for tests.")
@click.option("--keep-running", is_flag=True, help="Leave everything up to explore.")
@click.option(
    "--loops",
    default=1,
    show_default=True,
    type=click.IntRange(1, 2),
    help="Heal this many drifts in a row (each new drift is caught against the new baseline).",
)
def demo(workdir: Path, port: int, fast: bool, keep_running: bool, loops: int) -> None:
    """The whole loop on the embedded defaults: drift, alert, retraining, canary, promotion."""
    from monitor.demo.champion import DemoError
    from monitor.demo.loop import DemoOptions, run_demo
    from monitor.deployers.process import DeployError

    options = DemoOptions(
        workdir=workdir, port=port, fast=fast, keep_running=keep_running, loops=loops
    )
    try:
        run_demo(options, echo=lambda line: click.echo(line))
    except (DemoError, DeployError) as error:
        raise click.ClickException(str(error)) from error


@main.command()
def scheduler() -> None:
    """Run only the scheduler (one is active across replicas; others stand by)."""
    import signal
    import threading

    from monitor.scheduling.scheduler import MonitorScheduler

    settings = get_settings()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(f"scheduler for {settings.shown_database_url}", err=True)
    MonitorScheduler(settings).run(stop)


@main.command()
@click.option(
    "--concurrency",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Tasks executed at once: 1 runs them in this process, more in child processes.",
)
def worker(concurrency: int) -> None:
    """Run a worker of the task engine: it executes what the active scheduler sends."""
    from monitor.tasks.engine import worker_arguments

    settings = get_settings()
    if not settings.task_broker_url:
        raise click.ClickException(
            "MONITOR_TASK_BROKER_URL is not set: a worker needs the broker the scheduler sends "
            "to, e.g. amqp://guest:guest@127.0.0.1:5672//"
        )
    click.echo(f"worker for {settings.shown_database_url}, queue {settings.task_queue}", err=True)
    app, arguments = worker_arguments(settings, concurrency)
    app.worker_main(arguments)


@main.command()
@click.option("--model", required=True, help="Registered model name.")
@click.option("--monitor", "monitor_name", default="drift", show_default=True)
@click.option(
    "--start", required=True, type=click.DateTime(_TIMES), help="UTC, e.g. 2026-11-01T00:00"
)
@click.option(
    "--end", required=True, type=click.DateTime(_TIMES), help="UTC, e.g. 2026-11-02T00:00"
)
@click.option("--step", default=None, help="Window spacing, e.g. 1h (default: the window size)")
def backfill(
    model: str, monitor_name: str, start: datetime, end: datetime, step: str | None
) -> None:
    """Run a monitor over consecutive past windows, here and now, with a progress bar."""
    from sqlmodel import Session

    from monitor.entities.run import RunTrigger
    from monitor.runs.runner import execute_run, start_run
    from monitor.services import models, monitors
    from monitor.services.errors import NotFound, Unprocessable
    from monitor.store.engine import make_engine

    engine = make_engine(get_settings().resolved_database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            found = models.get_model(session=session, name=model)
            monitor = monitors.get_monitor(session=session, model=found, name=monitor_name)
            ends = monitors.backfill_window_ends(
                monitor, start.replace(tzinfo=UTC), end.replace(tzinfo=UTC), step
            )
    except (NotFound, Unprocessable) as error:
        raise click.ClickException(str(error)) from error
    outcomes: dict[str, int] = {}
    with click.progressbar(ends, label=f"backfilling {model}/{monitor_name}") as bar:
        for window_end in bar:
            with Session(engine, expire_on_commit=False) as session:
                run = start_run(
                    session, monitor=monitor, window_end=window_end, trigger=RunTrigger.BACKFILL
                )
            if run is None:  # this window was backfilled or scheduled before
                outcomes["already run"] = outcomes.get("already run", 0) + 1
                continue
            done = execute_run(
                engine,
                run.id,  # type: ignore[arg-type]
                get_settings().resolved_mlflow_tracking_uri,
            )
            outcomes[done.status] = outcomes.get(done.status, 0) + 1
    click.echo(", ".join(f"{count} {status}" for status, count in sorted(outcomes.items())))


@main.command()
@click.option("--model", required=True, help="Registered model name.")
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="A pipeline parameter for this run (repeatable); VALUE is read as JSON if it parses.",
)
def retrain(model: str, params: tuple[str, ...]) -> None:
    """Retrain a model here and now with its pipeline, and print the outcome.

    Exits 0 when the run succeeded and the gate passed (or an HTTP pipeline was triggered),
    2 when the gate failed, 1 when the run failed.
    """
    from monitor.retraining.cli import retrain_here

    retrain_here(get_settings(), model, params)


@main.command()
def migrate() -> None:
    """Bring the store's schema to the latest version (alembic upgrade head)."""
    from monitor.store.migrations import upgrade_to_head

    url = get_settings().resolved_database_url
    get_settings().data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_to_head(url)
    click.echo("schema is current")


@main.group()
def keys() -> None:
    """Manage API keys."""


@contextmanager
def _key_session() -> Iterator["Session"]:
    """A session on the store (migrated first: keys are often the first thing made)."""
    from sqlmodel import Session

    from monitor.store.engine import make_engine
    from monitor.store.migrations import upgrade_to_head

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_to_head(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


@keys.command("create")
@click.option(
    "--scope",
    required=True,
    type=click.Choice([scope.value for scope in Scope]),
    help="ingest: sidecars; read: dashboard and queries; admin: everything.",
)
@click.option("--name", default="", help="A note saying who holds the key.")
@click.option(
    "--expires-in-days", type=click.IntRange(1, 3650), default=None, help="Default: never."
)
def create_key(scope: str, name: str, expires_in_days: int | None) -> None:
    """Create an API key and print it once, alone on the last line."""
    from monitor.services.api_keys import create_key as issue
    from monitor.store.types import utc_now

    expires_at = None if expires_in_days is None else utc_now() + timedelta(days=expires_in_days)
    with _key_session() as session:
        api_key, plaintext = issue(
            session=session, scope=Scope(scope), name=name, expires_at=expires_at
        )
    click.echo(f"created {scope} key {api_key.prefix} (it is shown only now; store it safely):")
    click.echo(plaintext)


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.isoformat(timespec="seconds")


@keys.command("list")
def list_keys() -> None:
    """Every key: prefix, scope, name, created, expires, last used, revoked."""
    from monitor.services.api_keys import list_keys as find

    with _key_session() as session:
        for key in find(session=session):
            click.echo(
                "\t".join(
                    [
                        key.prefix,
                        key.scope,
                        key.name or "-",
                        _when(key.created_at),
                        f"expires {_when(key.expires_at)}",
                        f"used {_when(key.last_used_at)}",
                        f"revoked {_when(key.revoked_at)}",
                    ]
                )
            )


@keys.command("revoke")
@click.argument("prefix")
def revoke_key(prefix: str) -> None:
    """Revoke the key with this prefix (see `monitor keys list`)."""
    from monitor.services.api_keys import revoke_key as revoke
    from monitor.services.errors import Conflict, NotFound

    with _key_session() as session:
        try:
            revoke(session=session, prefix=prefix)
        except (NotFound, Conflict) as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"revoked key {prefix}")


@keys.command("rotate")
@click.argument("prefix")
def rotate_key(prefix: str) -> None:
    """Replace the key with this prefix: print a new one alone on the last line, revoke it."""
    from monitor.services.api_keys import rotate_key as rotate
    from monitor.services.errors import Conflict, NotFound

    with _key_session() as session:
        try:
            api_key, plaintext = rotate(session=session, prefix=prefix)
        except (NotFound, Conflict) as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"revoked key {prefix}; its replacement {api_key.prefix} is shown only now:")
    click.echo(plaintext)


@main.group()
def secrets() -> None:
    """Manage the encryption of stored secrets."""


@secrets.command("rotate")
def rotate_secrets() -> None:
    """Re-encrypt every stored secret with the first of MONITOR_SECRET_KEYS."""
    from sqlmodel import Session

    from monitor.services.secrets import rotate_secrets as rotate
    from monitor.store.engine import make_engine

    engine = make_engine(get_settings().resolved_database_url)
    with Session(engine) as session:
        rows = rotate(session=session)
    engine.dispose()
    click.echo(f"re-encrypted the secrets of {rows} channel(s) and pipeline(s)")


@main.command("config-reference")
def config_reference() -> None:
    """Print the configuration reference (markdown) generated from the settings classes."""
    from monitor.config_reference import render_reference

    click.echo(render_reference(), nl=False)


main.add_command(sidecar)
main.add_command(rollout)
