"""A model after real monitor runs, for the checks of what `/metrics` exports."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from monitor.scheduling import jobs
from tests.detectors.quality_factories import binary_sample
from tests.runs.quality_scenario import (
    create_monitor,
    register_model,
    run_windows,
    send_labels,
    send_window,
)


@pytest.fixture
def monitored(client: TestClient, admin: dict[str, str], database_url: str) -> dict[str, Any]:
    """The quality scenario's model after two real runs, half its rows labelled; returns the
    last run's detail."""
    jobs.bind(database_url)
    register_model(client, admin, binary_sample(5_000, seed=31))
    create_monitor(client, admin)
    for index in (0, 1):
        sample = binary_sample(1_000, seed=60 + index, shift=(0.0, 0.0, 1.5 * index))
        ids = send_window(client, admin, index, sample)
        send_labels(client, admin, ids[:500], sample.labels[:500])
    return run_windows(client, admin, 2)[-1]
