"""The PostgreSQL engine opens its pool when the server starts, and starts without a database."""

import time

import pytest

from monitor.store.engine import make_engine, open_pool


@pytest.mark.postgres
def test_the_pool_is_open_before_the_first_request(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    try:
        open_pool(engine)
        assert engine.pool.checkedin() == engine.pool.size() == 10  # type: ignore[attr-defined]
    finally:
        engine.dispose()


def test_a_database_that_is_away_does_not_stop_the_start() -> None:
    engine = make_engine("postgresql://postgres@127.0.0.1:1/monitor")
    started = time.monotonic()
    open_pool(engine)  # refused at once: no error, and no wait for each connection in turn
    assert engine.pool.checkedin() == 0  # type: ignore[attr-defined]
    assert time.monotonic() - started < 5
