"""The retraining API: configuring pipelines (errors name the field and the fix), triggering and
reading runs, and the HTTP pipeline's trigger payloads and signed callback."""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from monitor.retraining.executor import execute_run
from monitor.retraining.lifecycle import sweep
from monitor.settings import Settings
from monitor.store.types import utc_now
from tests.factories import model_payload
from tests.retraining.scenario import (
    Received,
    command_pipeline,
    configure,
    python_pipeline,
    receiver,
)
from triggers.retraining import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign_callback

MODEL = "churn"
PIPELINE = f"/api/v1/models/{MODEL}/pipeline"
RUNS = f"/api/v1/models/{MODEL}/retraining/runs"


@pytest.fixture
def churn(client: TestClient, admin: dict[str, str]) -> None:
    client.post("/api/v1/models", json=model_payload(MODEL), headers=admin)


def _errors(reply: Any) -> str:
    assert reply.status_code == 422, reply.text
    return json.dumps(reply.json()["detail"])


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kind": "python"}, "entry_point: required for kind 'python'"),
        ({"kind": "python", "entry_point": "train.py"}, "is not 'package.module:function'"),
        ({"kind": "command", "command": "x", "url": "http://a"}, "url: only for kind 'http'"),
        ({"kind": "http"}, "url: required for kind 'http'"),
        (
            {"kind": "command", "command": "x", "callback_secret": "s" * 20},
            "callback_secret: only for kind 'http'",
        ),
        ({"kind": "command", "command": "x", "timeout": "soon"}, "is not a duration"),
        (
            {"kind": "command", "command": "x", "policy": {"event_types": ["retrain.failed"]}},
            "policy.event_types[0]: 'retrain.failed' cannot trigger a retraining",
        ),
        (
            {
                "kind": "command",
                "command": "x",
                "gate": {"rules": [{"metric": "mae", "rule": "no_worse_than", "threshold": 1}]},
            },
            "gate.rules[0].metric: mae does not apply to binary_classification",
        ),
    ],
)
def test_invalid_pipelines_are_refused_naming_the_field(
    client: TestClient, admin: dict[str, str], churn: None, spec: dict[str, Any], message: str
) -> None:
    assert message in _errors(client.put(PIPELINE, json=spec, headers=admin))


def test_pipeline_is_read_back_with_its_defaults(
    client: TestClient, admin: dict[str, str], reader: dict[str, str], churn: None
) -> None:
    configure(client, admin, python_pipeline(), MODEL)
    pipeline = client.get(PIPELINE, headers=reader).json()
    assert pipeline["entry_point"] == "examples.retrain_sklearn:train"
    assert pipeline["policy"] == {
        "event_types": ["drift.detected"],
        "min_severity": "warning",
        "monitors": None,
        "enabled": True,
    }
    assert pipeline["gate"]["holdout_fraction"] == 0.3
    assert pipeline["callback_secret_set"] is False


def test_http_pipeline_secret_is_generated_once_and_never_read_back(
    client: TestClient, admin: dict[str, str], churn: None
) -> None:
    spec = {"kind": "http", "url": "http://orchestrator/trigger"}
    first = configure(client, admin, spec, MODEL)
    again = configure(client, admin, spec, MODEL)
    assert len(first["callback_secret"]) >= 32
    assert again["callback_secret"] is None  # kept, not regenerated
    read = client.get(PIPELINE, headers=admin).json()
    assert "callback_secret" not in read and read["callback_secret_set"] is True


def test_configuring_needs_an_admin_key(
    client: TestClient, reader: dict[str, str], churn: None
) -> None:
    assert client.put(PIPELINE, json=command_pipeline("true"), headers=reader).status_code == 403


def test_retraining_by_hand_queues_a_run_and_refuses_a_second(
    client: TestClient, admin: dict[str, str], reader: dict[str, str], churn: None
) -> None:
    configure(client, admin, command_pipeline("true", parameters={"depth": 2}), MODEL)
    queued = client.post(RUNS, json={"parameters": {"depth": 5}}, headers=admin)
    assert queued.status_code == 202
    assert queued.json()["status"] == "queued"
    assert queued.json()["parameters"] == {"depth": 5}
    second = client.post(RUNS, headers=admin)
    assert second.status_code == 409
    assert "at most one runs at a time" in second.json()["detail"]
    listed = client.get(RUNS, headers=reader).json()
    assert listed["count"] == 1


def test_retraining_a_model_without_a_pipeline_names_the_fix(
    client: TestClient, admin: dict[str, str], churn: None
) -> None:
    reply = client.post(RUNS, headers=admin)
    assert reply.status_code == 404
    assert f"PUT /api/v1/models/{MODEL}/pipeline" in reply.json()["detail"]


def test_a_run_is_read_with_its_logs(
    client: TestClient, admin: dict[str, str], churn: None, engine: Engine, settings: Settings
) -> None:
    configure(client, admin, command_pipeline("echo preparing features; exit 2"), MODEL)
    run_id = client.post(RUNS, headers=admin).json()["id"]
    execute_run(engine, settings, run_id)
    detail = client.get(f"{RUNS}/{run_id}", headers=admin).json()
    assert detail["status"] == "failed"
    assert "preparing features" in detail["logs"]
    assert detail["context"]["model"]["name"] == MODEL
    assert detail["lineage"] is None
    assert client.get(f"{RUNS}/999", headers=admin).status_code == 404


@dataclass(frozen=True)
class Triggered:
    run_id: int
    secret: str
    requests: list[Received]


@pytest.fixture
def trigger_http(
    client: TestClient, admin: dict[str, str], churn: None, engine: Engine, settings: Settings
) -> Callable[..., Triggered]:
    """Configure an HTTP pipeline aimed at a local receiver at `path`, run it by hand, and
    return what the receiver got (it answers `status`)."""

    def trigger(path: str = "/go", status: int = 200, **spec: Any) -> Triggered:
        with receiver(status) as orchestrator:
            pipeline = {"kind": "http", "url": f"{orchestrator.url}{path}", **spec}
            secret = configure(client, admin, pipeline, MODEL)["callback_secret"]
            run_id = client.post(RUNS, headers=admin).json()["id"]
            execute_run(engine, settings, run_id)
        return Triggered(run_id, secret, orchestrator.requests)

    return trigger


def test_airflow_trigger_posts_a_dag_run_with_the_context_as_conf(
    trigger_http: Callable[..., Triggered],
) -> None:
    triggered = trigger_http("/api/v1/dags/retrain/dagRuns", style="airflow")
    [request] = triggered.requests
    assert request.path == "/api/v1/dags/retrain/dagRuns"
    assert request.body["dag_run_id"] == f"monitor-retrain-{triggered.run_id}"
    assert request.body["conf"]["run_id"] == triggered.run_id
    assert request.body["conf"]["context"]["model"]["name"] == MODEL


def test_github_trigger_posts_a_repository_dispatch(
    trigger_http: Callable[..., Triggered], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_DISPATCH_TOKEN", "Bearer ghp_example")
    triggered = trigger_http(
        "/repos/acme/models/dispatches",
        status=204,
        style="github",
        event_type="retrain-churn",
        authorization_env="GITHUB_DISPATCH_TOKEN",
    )
    [request] = triggered.requests
    assert request.body["event_type"] == "retrain-churn"
    assert set(request.body["client_payload"]) == {
        "run_id",
        "model",
        "callback_url",
        "training_data_url",
        "context",
    }
    assert request.headers["Authorization"] == "Bearer ghp_example"
    assert request.headers["Accept"] == "application/vnd.github+json"


def test_a_refused_trigger_fails_the_run_with_the_answer(
    client: TestClient, admin: dict[str, str], trigger_http: Callable[..., Triggered]
) -> None:
    triggered = trigger_http(status=401)
    run = client.get(f"{RUNS}/{triggered.run_id}", headers=admin).json()
    assert run["status"] == "failed"
    assert "answered HTTP 401 Unauthorized" in run["error"]


def _callback(
    client: TestClient, run_id: int, secret: str, body: dict[str, Any], *, skew: int = 0
) -> Any:
    raw = json.dumps(body).encode()
    now = int(time.time()) + skew
    headers = {TIMESTAMP_HEADER: str(now), SIGNATURE_HEADER: sign_callback(secret, now, raw)}
    return client.post(f"/api/v1/retraining/runs/{run_id}/callback", content=raw, headers=headers)


def test_a_failure_reported_by_callback_fails_the_run(
    client: TestClient, admin: dict[str, str], trigger_http: Callable[..., Triggered]
) -> None:
    triggered = trigger_http()
    body = {"status": "failed", "message": "OOM on the GPU node", "logs": "step 3 died\n"}
    reply = _callback(client, triggered.run_id, triggered.secret, body)
    assert reply.status_code == 200
    run = client.get(f"{RUNS}/{triggered.run_id}", headers=admin).json()
    assert (run["status"], run["error"]) == ("failed", "OOM on the GPU node")
    assert "step 3 died" in run["logs"]


def test_a_callback_with_a_wrong_or_stale_signature_is_refused(
    client: TestClient, admin: dict[str, str], trigger_http: Callable[..., Triggered]
) -> None:
    triggered = trigger_http()
    run_id = triggered.run_id
    forged = _callback(client, run_id, "not-the-secret-of-this-pipeline", {"status": "failed"})
    stale = _callback(client, run_id, triggered.secret, {"status": "failed"}, skew=-3600)
    unsigned = client.post(f"/api/v1/retraining/runs/{run_id}/callback", json={"status": "failed"})
    assert [r.status_code for r in (forged, stale, unsigned)] == [401, 401, 401]
    assert "does not match the body" in forged.json()["detail"]
    assert client.get(f"{RUNS}/{run_id}", headers=admin).json()["status"] == "running"


def test_a_malformed_callback_names_the_field(
    client: TestClient, trigger_http: Callable[..., Triggered]
) -> None:
    triggered = trigger_http()
    reply = _callback(client, triggered.run_id, triggered.secret, {"status": "done"})
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"] == ["body", "status"]


def test_the_training_data_link_needs_its_signature(
    client: TestClient, trigger_http: Callable[..., Triggered]
) -> None:
    triggered = trigger_http()
    link = triggered.requests[0].body["training_data_url"].removeprefix("http://testserver")
    assert client.get(link).status_code == 200
    assert client.get(link.replace("signature=", "signature=0")).status_code == 401


def test_an_http_run_without_a_callback_times_out_at_its_deadline(
    client: TestClient,
    admin: dict[str, str],
    engine: Engine,
    trigger_http: Callable[..., Triggered],
) -> None:
    triggered = trigger_http()
    assert (
        sweep(engine, now=utc_now() + timedelta(minutes=5), stale_after=timedelta(minutes=1)) == 0
    )
    assert sweep(engine, now=utc_now() + timedelta(hours=2), stale_after=timedelta(minutes=1)) == 1
    run = client.get(f"{RUNS}/{triggered.run_id}", headers=admin).json()
    assert run["status"] == "timed_out"
    assert "no completion callback arrived before the deadline" in run["error"]


def test_pipeline_env_values_are_read_back_masked(
    client: TestClient, admin: dict[str, str], reader: dict[str, str], churn: None
) -> None:
    configure(
        client, admin, command_pipeline("true", env={"HF_TOKEN": "hf_secretvalue_9876"}), MODEL
    )
    reply = client.get(PIPELINE, headers=reader)
    assert reply.json()["env"] == {"HF_TOKEN": "****9876"}
    assert "hf_secretvalue" not in reply.text


def test_a_read_key_never_sees_the_training_data_link_signature(
    client: TestClient, reader: dict[str, str], trigger_http: Callable[..., Triggered]
) -> None:
    triggered = trigger_http()
    link = triggered.requests[0].body["training_data_url"]
    signature = link.rsplit("signature=", 1)[1]
    reply = client.get(f"{RUNS}/{triggered.run_id}", headers=reader)
    assert reply.json()["context"]["data"]["url"].endswith("signature=****")
    assert signature not in reply.text


def test_a_signed_link_printed_by_a_pipeline_is_redacted_in_its_logs(
    client: TestClient, admin: dict[str, str], churn: None, engine: Engine, settings: Settings
) -> None:
    printed = "http://testserver/api/v1/retraining/runs/1/training-data?expires=9&signature=c0ffee"
    configure(client, admin, command_pipeline(f"echo '{printed}'"), MODEL)
    run_id = client.post(RUNS, headers=admin).json()["id"]
    execute_run(engine, settings, run_id)
    logs = client.get(f"{RUNS}/{run_id}", headers=admin).json()["logs"]
    assert "training-data?expires=9&signature=****" in logs
    assert "c0ffee" not in logs


def test_an_http_pipeline_aimed_at_loopback_fails_without_the_egress_setting(
    client: TestClient, admin: dict[str, str], churn: None, engine: Engine, settings: Settings
) -> None:
    with receiver() as orchestrator:
        configure(client, admin, {"kind": "http", "url": f"{orchestrator.url}/go"}, MODEL)
        run_id = client.post(RUNS, headers=admin).json()["id"]
        execute_run(engine, settings.model_copy(update={"egress_allow_private": False}), run_id)
    run = client.get(f"{RUNS}/{run_id}", headers=admin).json()
    assert run["status"] == "failed"
    assert "MONITOR_EGRESS_ALLOW_PRIVATE=true" in run["error"]
    assert orchestrator.requests == []


def test_a_pipeline_kind_the_operator_forbids_is_refused_naming_the_setting(
    client: TestClient, admin: dict[str, str], churn: None
) -> None:
    client.app.state.settings.retraining_pipeline_kinds = "http"  # type: ignore[attr-defined]
    reply = client.put(PIPELINE, json=command_pipeline("true"), headers=admin)
    assert reply.status_code == 422
    [problem] = reply.json()["detail"]
    assert problem["loc"] == ["body", "kind"]
    assert "MONITOR_RETRAINING_PIPELINE_KINDS" in problem["msg"]


def test_a_run_of_a_kind_forbidden_since_it_was_configured_fails_without_running(
    client: TestClient, admin: dict[str, str], churn: None, engine: Engine, settings: Settings
) -> None:
    configure(client, admin, command_pipeline("echo ran"), MODEL)
    run_id = client.post(RUNS, headers=admin).json()["id"]
    execute_run(engine, settings.model_copy(update={"retraining_pipeline_kinds": "http"}), run_id)
    run = client.get(f"{RUNS}/{run_id}", headers=admin).json()
    assert run["status"] == "failed"
    assert "MONITOR_RETRAINING_PIPELINE_KINDS" in run["error"]
    assert "ran" not in run["logs"]


def test_production_allows_only_http_pipelines_unless_told_otherwise(tmp_path: Path) -> None:
    production = Settings(
        environment="production",
        database_url="postgresql+psycopg://monitor@db/monitor",
        secret_keys=Fernet.generate_key().decode(),
        data_dir=tmp_path,
        _env_file=None,  # type: ignore[call-arg]
    )
    assert production.allowed_pipeline_kinds == ("http",)


def test_a_local_pipeline_inherits_only_allow_listed_variables(
    client: TestClient,
    admin: dict[str, str],
    churn: None,
    engine: Engine,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "leaked")
    command = 'echo "aws=${AWS_SECRET_ACCESS_KEY:-unset} path=${PATH:+set} own=$OWN"'
    configure(client, admin, command_pipeline(command, env={"OWN": "mine"}), MODEL)
    run_id = client.post(RUNS, headers=admin).json()["id"]
    execute_run(engine, settings, run_id)
    logs = client.get(f"{RUNS}/{run_id}", headers=admin).json()["logs"]
    assert "aws=unset path=set own=mine" in logs


def test_a_callback_naming_a_model_outside_the_registry_is_refused(
    client: TestClient, trigger_http: Callable[..., Triggered]
) -> None:
    triggered = trigger_http()
    body = {"status": "succeeded", "model_uri": "file:///tmp/evil-model"}
    reply = _callback(client, triggered.run_id, triggered.secret, body)
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"] == ["body", "model_uri"]
