"""Schema migrations through Alembic: upgrade to head, and check that a store is current."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"

# APScheduler creates and owns its job table; migrations leave it alone.
UNMANAGED_TABLES = frozenset({"apscheduler_jobs"})


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic's filter: everything but the tables other libraries manage."""
    return not (type_ == "table" and name in UNMANAGED_TABLES)


def alembic_config(database_url: str) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["configure_logging"] = False
    return config


def upgrade_to_head(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


def pending_heads(engine: Engine) -> set[str]:
    """Head revisions the store has not reached yet (empty when migrations are current)."""
    script = ScriptDirectory.from_config(alembic_config(engine.url.render_as_string(False)))
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return set(script.get_heads()) - current
