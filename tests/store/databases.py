"""Empty databases for migration tests, which start below the head revision."""

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from alembic import command
from sqlalchemy.engine import make_url

from monitor.store.migrations import alembic_config


def fresh_postgres_database(server_url: str) -> tuple[str, psycopg.Connection[Any]]:
    """A fresh, empty database on the suite's PostgreSQL server (the one `postgres_database`
    reached, or skipped or failed on, as the suite requires), and an admin connection that
    can drop it."""
    parsed = make_url(server_url)
    admin_url = parsed.set(drivername="postgresql", database="postgres")
    admin = psycopg.connect(admin_url.render_as_string(hide_password=False), autocommit=True)
    name = f"monitor_migration_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    return parsed.set(database=name).render_as_string(hide_password=False), admin


def store_at_revision(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    revision: str,
    label: str,
) -> Iterator[str]:
    """For a fixture parametrised "sqlite"/"postgresql": an empty store migrated to `revision`,
    dropped afterwards (`yield from` it)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp(label) / 'monitor.db'}"
        command.upgrade(alembic_config(url), revision)
        yield url
        return
    url, admin = fresh_postgres_database(request.getfixturevalue("postgres_database"))
    try:
        command.upgrade(alembic_config(url), revision)
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
        admin.close()
