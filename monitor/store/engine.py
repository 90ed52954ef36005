"""Engine construction for the two supported stores: SQLite (embedded default) and PostgreSQL."""

from contextlib import ExitStack, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import QueuePool


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever driver the URL names, so one driver is tested."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    """Create the engine for `url`; for SQLite, create its folder and set durable pragmas."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; synchronous=FULL makes a commit survive
    # power loss, so an acknowledged batch is never lost; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def is_postgresql(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def open_pool(engine: Engine) -> None:
    """Open the pool's connections now: a dashboard page's first requests arrive together, and
    each would otherwise wait to set up a connection of its own (130 ms on the first page at
    fleet size). A database that is away is no error here; requests answer 503 until it is
    back, and the first failed connection ends the warm-up."""
    if not isinstance(engine.pool, QueuePool):
        return
    with ExitStack() as held, suppress(SQLAlchemyError):
        for _ in range(engine.pool.size()):
            held.enter_context(engine.connect())
