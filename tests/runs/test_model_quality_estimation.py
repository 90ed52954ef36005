"""Estimated quality beside the realized figure, through real runs and the quality API, under
covariate shift only: reference of 20,000 rows; windows of 2,000 rows whose features are shifted
by a seeded N(0, 0.5^2) draw per feature, P(y | x) unchanged; labels known at run time."""

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from monitor.scheduling import jobs
from tests.detectors.quality_factories import binary_sample
from tests.runs.quality_scenario import (
    create_monitor,
    quality,
    register_model,
    run_windows,
    send_labels,
    send_window,
)

WINDOWS = 30
pytestmark = pytest.mark.slow


@pytest.fixture
def roc_auc(client: TestClient, admin: dict[str, str], database_url: str) -> list[dict[str, Any]]:
    """Each window's ROC AUC row, read back through `GET /quality`."""
    jobs.bind(database_url)
    register_model(client, admin, binary_sample(20_000, seed=51))
    create_monitor(client, admin)
    shifts = np.random.default_rng(52).normal(0.0, 0.5, size=(WINDOWS, 3))
    for index, shift in enumerate(shifts):
        sample = binary_sample(2_000, seed=1_000 + index, shift=tuple(shift))
        send_labels(client, admin, send_window(client, admin, index, sample), sample.labels)
    run_windows(client, admin, WINDOWS)
    rows = [r for r in quality(client, admin) if r["metric"] == "roc_auc"]
    assert len(rows) == WINDOWS
    return rows


def test_estimated_roc_auc_tracks_realized_within_0_02_and_its_interval_covers_90_percent(
    roc_auc: list[dict[str, Any]],
) -> None:
    errors = [abs(r["estimated"] - r["realized"]) for r in roc_auc]
    inside = [r["estimated_low"] <= r["realized"] <= r["estimated_high"] for r in roc_auc]
    figures = f"mean |estimated - realized| {np.mean(errors):.4f}, inside {np.mean(inside):.0%}"
    print(f"\nROC AUC over {len(roc_auc)} windows: {figures}")
    assert np.mean(errors) < 0.02, figures
    assert np.mean(inside) >= 0.9, figures
