"""The Alembic migrations build exactly the schema the table classes describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine
from sqlmodel import SQLModel

import monitor.entities  # noqa: F401  (registers the tables)
from monitor.store.engine import make_engine
from monitor.store.migrations import include_object, pending_heads


def test_migrated_schema_matches_the_table_classes(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include_object}
        )
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_migrated_store_has_no_pending_migrations(engine: Engine) -> None:
    assert pending_heads(engine) == set()


def test_empty_store_reports_the_head_as_pending(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/empty.db")
    assert len(pending_heads(engine)) == 1
    engine.dispose()
