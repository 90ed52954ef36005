"""Runs compare SHAP attributions of the monitor's MLflow model on reference and window samples."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import mlflow
import pytest
from fastapi.testclient import TestClient
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from monitor.runs.attribution import model_uri_of
from monitor.scheduling import jobs
from tests.factories import (
    DRIFT_CATEGORICAL,
    drift_frame,
    drift_model_payload,
    records_from,
    upload_reference,
)

MODEL = "/api/v1/models/scored"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def champion(tmp_path: Path) -> str:
    """A real scikit-learn pipeline registered in a local MLflow store as scored@champion."""
    tracking_uri = f"sqlite:///{tmp_path}/mlflow.db"
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.create_experiment("attribution", artifact_location=str(tmp_path / "artifacts"))
    mlflow.set_experiment("attribution")
    frame = drift_frame(2_000, seed=11)
    features = frame.drop(columns=["prediction"])
    labels = (frame["x0"] + frame["x1"] > 0).astype(int)
    encode = ColumnTransformer(
        [("categories", OneHotEncoder(handle_unknown="ignore"), DRIFT_CATEGORICAL)],
        remainder="passthrough",
    )
    model = make_pipeline(encode, GradientBoostingClassifier(n_estimators=20, random_state=0))
    model.fit(features, labels)
    with mlflow.start_run():
        mlflow.sklearn.log_model(
            model, name="model", registered_model_name="scored", serialization_format="cloudpickle"
        )
    mlflow.MlflowClient().set_registered_model_alias("scored", "champion", "1")
    return tracking_uri


def test_run_records_ndcg_and_each_features_importance_shift(
    client: TestClient, admin: dict[str, str], database_url: str, champion: str
) -> None:
    client.post("/api/v1/models", json=drift_model_payload(), headers=admin)
    upload_reference(client, admin, drift_frame(3_000, seed=1))
    records = records_from(drift_frame(1_000, seed=5, shifted=("x1",)), "r")
    for record in records:
        record["timestamp"] = (NOW - timedelta(minutes=5)).isoformat()
    client.post(f"{MODEL}/inferences", json={"records": records}, headers=admin)
    monitor = {
        "window": {"duration": "1h"},
        "shap_sample_size": 40,
        "explain_model_uri": "models:/scored@champion",
    }
    assert client.post(f"{MODEL}/monitors", json=monitor, headers=admin).status_code == 201
    queued = client.post(
        f"{MODEL}/monitors/drift/runs", json={"window_end": NOW.isoformat()}, headers=admin
    ).json()
    jobs.bind(database_url, champion)
    jobs.drain_queue()
    run = client.get(f"{MODEL}/runs/{queued['run_ids'][0]}", headers=admin).json()
    assert run["status"] == "succeeded", run["error"]
    attribution = [r for r in run["results"] if r["role"] == "attribution"]
    (verdict,) = [r for r in attribution if r["test"] == "shap_ndcg"]
    assert 0.0 <= verdict["statistic"] <= 1.0
    assert 0.5 < verdict["threshold"] <= 1.0  # learned from reference subsamples, not a fixed 0.9
    shifts = {r["feature"] for r in attribution if r["test"] == "mean_abs_shap"}
    assert shifts == {"x0", "x1", "x2", "x3", "x4", "x5", "region", "device"}


def test_shap_without_a_model_is_refused_naming_the_field(
    client: TestClient, admin: dict[str, str]
) -> None:
    client.post("/api/v1/models", json=drift_model_payload(), headers=admin)
    reply = client.post(f"{MODEL}/monitors", json={"shap_sample_size": 100}, headers=admin)
    assert reply.status_code == 422
    assert "explain_model_uri" in reply.text


def test_the_explained_model_is_the_version_the_window_judges() -> None:
    assert model_uri_of("models:/scored@champion", "3") == "models:/scored/3"
    assert model_uri_of("models:/scored/1", "3") == "models:/scored/3"
    assert model_uri_of("models:/scored@champion", None) == "models:/scored@champion"
    assert model_uri_of("runs:/abc/model", "3") == "runs:/abc/model"
