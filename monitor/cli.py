"""The `monitor` command line: serve, migrate, keys."""

import click

from monitor.entities.api_key import Scope
from monitor.settings import get_settings


@click.group()
def main() -> None:
    """Model monitoring and auto-retraining control plane."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to bind.")
def serve(host: str, port: int) -> None:
    """Run the API (and, as they land, the dashboard and scheduler) in one process."""
    import uvicorn

    from monitor.api.app import create_app

    settings = get_settings()
    click.echo(f"store: {settings.resolved_database_url}", err=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", access_log=False)


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


@keys.command("create")
@click.option(
    "--scope",
    required=True,
    type=click.Choice([scope.value for scope in Scope]),
    help="ingest: sidecars; read: dashboard and queries; admin: everything.",
)
@click.option("--name", default="", help="A note saying who holds the key.")
def create_key(scope: str, name: str) -> None:
    """Create an API key and print it once, alone on the last line."""
    from sqlmodel import Session

    from monitor.services.api_keys import create_key as issue
    from monitor.store.engine import make_engine
    from monitor.store.migrations import upgrade_to_head

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_to_head(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    with Session(engine) as session:
        api_key, plaintext = issue(session=session, scope=Scope(scope), name=name)
    engine.dispose()
    click.echo(f"created {scope} key {api_key.prefix} (it is shown only now; store it safely):")
    click.echo(plaintext)
