"""Fixtures of the retraining tests: one embedded MLflow store for the session, and settings
(used by the API client too) with short heartbeats."""

from pathlib import Path

import pytest

from monitor.settings import Settings


@pytest.fixture(scope="session")
def mlflow_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An embedded MLflow store shared by the session (creating one costs seconds)."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture
def settings(settings: Settings, mlflow_uri: str, tmp_path: Path) -> Settings:
    """The root settings, with retraining's MLflow store and a test server address."""
    return settings.model_copy(
        update={
            "mlflow_tracking_uri": mlflow_uri,
            "mlflow_artifact_root": tmp_path / "mlartifacts",
            "retraining_heartbeat_seconds": 0.2,
            "public_url": "http://testserver",
        }
    )


@pytest.fixture
def retrain_settings(settings: Settings) -> Settings:
    return settings
