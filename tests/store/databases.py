"""Empty databases for migration tests, which start below the head revision."""

import uuid
from typing import Any

import psycopg
from sqlalchemy.engine import make_url


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
