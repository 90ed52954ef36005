"""Which scheduler process is active. PostgreSQL: a session advisory lock, released by the server
when the holder's connection dies, so a standby takes over. SQLite: an exclusive file lock, which
the kernel releases when the holder dies."""

import fcntl
import logging
from pathlib import Path
from typing import IO, Protocol

import psycopg
from sqlalchemy import make_url

log = logging.getLogger(__name__)

# Advisory locks are cluster-wide: the lock is this fixed class plus the store's database oid,
# so every replica of one store contends for one lock and installations that share a
# PostgreSQL server (each in its own database) elect their schedulers apart.
ADVISORY_LOCK_CLASS = 0x6D6F6E69  # "moni"
DATABASE_OID = "(SELECT oid::int FROM pg_database WHERE datname = current_database())"


class Leadership(Protocol):
    def try_acquire(self) -> bool:
        """Become the active scheduler if nobody is; never blocks."""

    def still_held(self) -> bool:
        """False once the lock is lost (e.g. the database connection dropped)."""

    def release(self) -> None: ...


class PostgresLeadership:
    def __init__(self, database_url: str) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._connection: psycopg.Connection[tuple[object, ...]] | None = None

    def try_acquire(self) -> bool:
        if self._connection is None or self._connection.closed:
            self._connection = psycopg.connect(self._dsn, autocommit=True, connect_timeout=5)
        row = self._connection.execute(
            f"SELECT pg_try_advisory_lock(%s, {DATABASE_OID})", (ADVISORY_LOCK_CLASS,)
        ).fetchone()
        return bool(row and row[0])

    def still_held(self) -> bool:
        if self._connection is None or self._connection.closed:
            return False
        try:
            row = self._connection.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
                f"pid = pg_backend_pid() AND classid = %s AND objid = {DATABASE_OID} "
                "AND objsubid = 2",
                (ADVISORY_LOCK_CLASS,),
            ).fetchone()
        except psycopg.Error:
            log.warning("scheduler lock connection lost; stepping down")
            return False
        return bool(row and row[0])

    def release(self) -> None:
        if self._connection is not None and not self._connection.closed:
            self._connection.close()  # closing the session releases its advisory locks
        self._connection = None


class FileLeadership:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._handle: IO[str] | None = None

    def try_acquire(self) -> bool:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        handle = self._path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._handle = handle
        return True

    def still_held(self) -> bool:
        return self._handle is not None

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()
        self._handle = None


def leadership_for(database_url: str, data_dir: Path) -> Leadership:
    if make_url(database_url).get_backend_name() == "postgresql":
        return PostgresLeadership(database_url)
    return FileLeadership(data_dir / "scheduler.lock")
