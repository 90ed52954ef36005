"""A database that is away is a 503 with Retry-After and one log line, not a 500 per request."""

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from monitor.api.app import create_app
from monitor.deployers.process import free_port
from monitor.settings import Settings


def test_requests_while_the_database_is_away_are_503_with_retry_after(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    away = Settings(
        database_url=f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/gone",
        data_dir=tmp_path,
        migrate_on_start=False,
        scheduler=False,
    )
    caplog.set_level(logging.WARNING, logger="monitor.api.errors")
    with TestClient(create_app(away)) as client:
        replies = [
            client.get("/api/v1/models", headers={"Authorization": "Bearer mon_abc_def"})
            for _ in range(3)
        ]
    assert [reply.status_code for reply in replies] == [503, 503, 503]
    assert replies[0].headers["Retry-After"] == "2"
    assert len([r for r in caplog.records if "database unavailable" in r.message]) == 1
