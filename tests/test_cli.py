"""The `monitor` command line."""

from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from monitor.entities.api_key import ApiKey
from monitor.services.api_keys import find_scope
from tests.cli import first_error_line, run_monitor


def test_keys_create_prints_a_working_key_alone_on_the_last_line(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    result = run_monitor(
        "keys", "create", "--scope", "ingest", database_url=database_url, cwd=tmp_path
    )
    key = result.stdout.strip().splitlines()[-1]
    with Session(engine) as session:
        assert find_scope(session=session, plaintext=key) == "ingest"
        assert session.exec(select(ApiKey)).one().scope == "ingest"


def test_migrate_builds_the_default_sqlite_store_in_the_working_directory(tmp_path: Path) -> None:
    result = run_monitor("migrate", cwd=tmp_path)
    assert "schema is current" in result.stdout
    assert (tmp_path / "data" / "monitor.db").exists()


def test_backfill_of_an_unknown_model_says_how_to_register_it(
    database_url: str, tmp_path: Path
) -> None:
    window = ["--start", "2026-11-01T00:00", "--end", "2026-11-02T00:00"]
    backfill = ["backfill", "--model", "ghost", *window]
    result = run_monitor(*backfill, database_url=database_url, cwd=tmp_path, check=False)
    assert result.returncode == 1, result.stderr
    assert "register it with POST /api/v1/models" in result.stderr


def test_scheduler_prints_its_store_with_the_password_hidden(
    postgres_url: str, tmp_path: Path
) -> None:
    with_password = postgres_url.replace("://postgres@", "://postgres:hunter2@")
    line = first_error_line("scheduler", database_url=with_password, cwd=tmp_path)
    assert "postgres:***@127.0.0.1" in line
    assert "hunter2" not in line


def test_worker_without_a_broker_says_which_setting_to_set(tmp_path: Path) -> None:
    result = run_monitor("worker", cwd=tmp_path, check=False)
    assert result.returncode == 1, result.stderr
    assert "MONITOR_TASK_BROKER_URL is not set" in result.stderr
