"""Test harness: every data-layer test runs on SQLite and on the real PostgreSQL.

PostgreSQL tests skip with a visible reason where no server answers, unless CI=true or
MONITOR_REQUIRE_POSTGRES=1, where they fail instead: CI must never pass by skipping them.
"""

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session, SQLModel

from monitor.api.app import create_app
from monitor.entities.api_key import Scope
from monitor.services.api_keys import create_key
from monitor.settings import Settings
from monitor.store.engine import make_engine
from monitor.store.migrations import upgrade_to_head

# Under `pytest -n`, the dashboard's tests stay on one worker: they share package-scoped servers
# and a browser. Every other module is a group of its own, so its module-scoped servers start once.
DASHBOARD = "tests/dashboard/"

POSTGRES_SERVER = os.environ.get("MONITOR_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


@pytest.fixture(scope="session", autouse=True)
def stray_mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Code that falls back to MLflow's default store (a `mlflow.db` in the working directory)
    writes into the test session's temporary folder, never into the checkout."""
    fallback = f"sqlite:///{tmp_path_factory.mktemp('mlflow-default') / 'mlflow.db'}"
    previous = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ.setdefault("MLFLOW_TRACKING_URI", fallback)
    yield
    if previous is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """How `pytest -n` shares out the tests: by module, the dashboard package as one."""
    from xdist.scheduler import LoadScopeScheduling

    class BySharedFixtures(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith(DASHBOARD):
                return DASHBOARD
            return super()._split_scope(nodeid)

    return BySharedFixtures(config, log)


def _postgres_required() -> bool:
    return os.environ.get("CI", "").lower() == "true" or bool(
        os.environ.get("MONITOR_REQUIRE_POSTGRES")
    )


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session, dropped at the end."""
    name = f"monitor_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        message = f"PostgreSQL at {POSTGRES_SERVER} is unreachable ({error})"
        if _postgres_required():
            pytest.fail(f"{message}; CI requires it", pytrace=False)
        pytest.skip(f"{message}; set MONITOR_TEST_POSTGRES to run these tests")
    admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{POSTGRES_SERVER.replace('postgresql://', 'postgresql+psycopg://')}/{name}"
    upgrade_to_head(url)
    try:
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "monitor.db"
    upgrade_to_head(f"sqlite:///{path}")
    return path


def _truncate_all(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty store: a copy of a template file on SQLite, a truncated database on
    PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "monitor.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue("postgres_database")
    _truncate_all(url)
    yield url


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> str:
    """An empty migrated PostgreSQL store, for what only PostgreSQL does (advisory locks)."""
    url: str = request.getfixturevalue("postgres_database")
    _truncate_all(url)
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        migrate_on_start=False,
        scheduler=False,
        egress_allow_private=True,  # the tests' receivers listen on loopback
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _key(engine: Engine, scope: Scope) -> dict[str, str]:
    with Session(engine) as session:
        _, plaintext = create_key(session=session, scope=scope, name=f"test {scope}")
    return {"Authorization": f"Bearer {plaintext}"}


@pytest.fixture
def admin(engine: Engine) -> dict[str, str]:
    """Headers carrying an admin key."""
    return _key(engine, Scope.ADMIN)


@pytest.fixture
def ingest(engine: Engine) -> dict[str, str]:
    """Headers carrying an ingest key (what a sidecar holds)."""
    return _key(engine, Scope.INGEST)


@pytest.fixture
def reader(engine: Engine) -> dict[str, str]:
    """Headers carrying a read key (what the dashboard holds)."""
    return _key(engine, Scope.READ)
