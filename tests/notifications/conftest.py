"""Fixtures for notification tests: a local receiver, and settings that keep delays tiny."""

from collections.abc import Iterator

import pytest

from monitor.settings import Settings
from tests.notifications.receiver import Receiver, running_receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture
def fast(settings: Settings) -> Settings:
    """Retries in tens of milliseconds, a short timeout, a pass every 50 ms."""
    return settings.model_copy(
        update={
            "delivery_poll_seconds": 0.05,
            "delivery_timeout_seconds": 1.0,
            "delivery_backoff_base_seconds": 0.01,
            "delivery_backoff_max_seconds": 0.05,
            "delivery_max_attempts": 4,
        }
    )
