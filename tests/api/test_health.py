"""Liveness, readiness and metrics."""

from pathlib import Path

from fastapi.testclient import TestClient

from monitor.api.app import create_app
from monitor.settings import Settings
from tests.factories import batch, model_payload


def test_healthz_answers_without_a_key(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_is_ready_on_a_migrated_store(client: TestClient) -> None:
    assert client.get("/readyz").json() == {"status": "ready"}


def test_readyz_is_503_while_migrations_are_pending(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/blank.db",
        data_dir=tmp_path,
        migrate_on_start=False,
        scheduler=False,
    )
    with TestClient(create_app(settings)) as blank:
        reply = blank.get("/readyz")
    assert reply.status_code == 503
    assert "monitor migrate" in reply.json()["reason"]


def test_metrics_count_requests_and_records(
    client: TestClient, admin: dict[str, str], ingest: dict[str, str]
) -> None:
    client.post("/api/v1/models", json=model_payload(), headers=admin)
    client.post("/api/v1/models/churn/inferences", json=batch(0, 7), headers=ingest)
    client.post("/api/v1/models/churn/inferences", json=batch(5, 4), headers=ingest)
    bad = batch(100, 3)
    bad["records"][0]["prediction"] = "nope"
    client.post("/api/v1/models/churn/inferences", json=bad, headers=ingest)
    text = client.get("/metrics").text
    assert 'monitor_records_ingested_total{model="churn"} 9.0' in text
    assert 'monitor_records_duplicate_total{model="churn"} 2.0' in text
    assert 'monitor_records_rejected_total{model="churn"} 3.0' in text
    assert (
        'monitor_http_requests_total{method="POST",route="/api/v1/models/{model}/inferences",'
        'status="202"} 2.0' in text
    )
    assert "monitor_http_request_duration_seconds_bucket" in text


def test_openapi_documents_the_sidecar_contract(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    inferences = spec["paths"]["/api/v1/models/{model}/inferences"]["post"]
    schema = inferences["requestBody"]["content"]["application/json"]["schema"]
    assert "records" in schema["properties"]
    assert "/api/v1/models/{model}/routing" in spec["paths"]
