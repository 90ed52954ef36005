"""The canary controller on both stores, driven by inference records logged through the API
and a controlled clock: promotion with MLflow aliases read back, automatic rollback on errors
and on shifted predictions, the inconclusive pause, and a restart that carries on."""

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from monitor.rollouts.controller import STARVED_BAKES, RolloutController
from monitor.settings import Settings
from monitor.store.engine import make_engine
from tests.rollouts.conftest import MlflowStore
from tests.rollouts.traffic import labels_for, send, variant_records

# Every step bakes one second; the clock is moved two seconds past the step's start.
BAKE_SECONDS = 1
PAST_BAKE = timedelta(seconds=2)
STARVED_PAST = timedelta(seconds=STARVED_BAKES * BAKE_SECONDS + 1)


def start(client: TestClient, admin: dict[str, str], model: str, **body: Any) -> dict[str, Any]:
    payload = {"candidate_endpoint": "green", "bake_seconds": BAKE_SECONDS, "min_requests": 30}
    reply = client.post(f"/api/v1/models/{model}/rollouts", json={**payload, **body}, headers=admin)
    assert reply.status_code == 201, reply.text
    started: dict[str, Any] = reply.json()
    return started


def bake(
    client: TestClient,
    admin: dict[str, str],
    controller: RolloutController,
    rollout: dict[str, Any],
    *,
    seed: int,
    stable: int = 100,
    canary: int = 100,
    canary_wrong_share: float | None = None,
    after: timedelta = PAST_BAKE,
    **canary_traffic: Any,
) -> dict[str, Any]:
    """Serve one step's traffic, move the clock `after` the step's start (past its bake time),
    tick, read it back. With `canary_wrong_share`, labels arrive too: all right for stable, that
    share wrong for canary."""
    model = rollout["model"]
    started = datetime.fromisoformat(rollout["step_started_at"])
    at = started + timedelta(milliseconds=10)
    served = variant_records("stable", "1", stable, at, seed=seed)
    canary_served = variant_records("canary", "2", canary, at, seed=seed + 1, **canary_traffic)
    if served or canary_served:  # none: the clock moves on with no new traffic
        send(client, admin, model, served + canary_served)
    if canary_wrong_share is not None:
        labels = labels_for(served, wrong_share=0.0, seed=seed)["labels"]
        labels += labels_for(canary_served, wrong_share=canary_wrong_share, seed=seed)["labels"]
        reply = client.post(
            f"/api/v1/models/{model}/labels", json={"labels": labels}, headers=admin
        )
        assert reply.status_code == 202, reply.text
    controller.tick(now=started + after)
    read: dict[str, Any] = client.get(
        f"/api/v1/models/{model}/rollouts/{rollout['id']}", headers=admin
    ).json()
    return read


def rolled_back_in_one_step(
    client: TestClient,
    admin: dict[str, str],
    controller: RolloutController,
    model: str,
    *,
    seed: int,
    **canary_traffic: Any,
) -> dict[str, Any]:
    """Start a rollout that allows one failed check, bake its first step with this canary
    traffic, and return it, asserting it was rolled back."""
    rollout = start(client, admin, model, max_failed_checks=1)
    rollout = bake(client, admin, controller, rollout, seed=seed, **canary_traffic)
    assert rollout["state"] == "rolled_back", rollout["reason"]
    return rollout


def aliases(store: MlflowStore, name: str) -> dict[str, str | None]:
    client = MlflowClient(store.uri, registry_uri=store.uri)
    found: dict[str, str | None] = {}
    for alias in ("champion", "challenger", "previous"):
        try:
            found[alias] = str(client.get_model_version_by_alias(name, alias).version)
        except MlflowException:
            found[alias] = None
    return found


def events(client: TestClient, headers: dict[str, str], model: str, kind: str) -> list[Any]:
    reply = client.get("/api/v1/events", params={"model": model, "type": kind}, headers=headers)
    data: list[Any] = reply.json()["data"]
    return data


def checks(
    client: TestClient, headers: dict[str, str], model: str, rollout: dict[str, Any]
) -> list[dict[str, Any]]:
    """The rollout's recorded checks, read back through the API."""
    page = client.get(
        f"/api/v1/models/{model}/rollouts/{rollout['id']}/checks", headers=headers
    ).json()
    assert page["count"] == len(page["data"])
    found: list[dict[str, Any]] = page["data"]
    return found


def stable_only(client: TestClient, headers: dict[str, str], model: str) -> list[Any]:
    routing = client.get(f"/api/v1/models/{model}/routing", headers=headers).json()
    return [
        (v["name"], v["model_version"], v["endpoint"], v["weight"]) for v in routing["variants"]
    ]


def test_a_good_candidate_goes_through_every_step_and_is_promoted(
    client: TestClient,
    admin: dict[str, str],
    ingest: dict[str, str],
    reader: dict[str, str],
    controller: RolloutController,
    mlflow_store: MlflowStore,
    watched: str,
) -> None:
    rollout = start(client, admin, watched)
    assert rollout["candidate_version"] == "2"  # from @challenger
    weights = [rollout["weight"]]
    for step in range(4):
        # At 100% the stable variant serves nothing; its earlier steps are the baseline.
        stable = 0 if rollout["weight"] == 100 else 100
        rollout = bake(client, admin, controller, rollout, seed=10 * step, stable=stable)
        weights.append(rollout["weight"])
    assert rollout["state"] == "promoted", rollout["transitions"]
    assert weights == [5, 25, 50, 100, 100]
    assert [t["state"] for t in rollout["transitions"]][-1] == "promoted"
    assert aliases(mlflow_store, watched) == {
        "champion": "2",
        "challenger": None,
        "previous": "1",
    }
    assert stable_only(client, ingest, watched) == [("stable", "2", "http://127.0.0.1:9002", 100)]
    recorded = checks(client, reader, watched, rollout)
    assert len(recorded) == 16
    assert not [c for c in recorded if c["outcome"] == "failed"]
    promoted = events(client, reader, watched, "rollout.promoted")
    assert promoted[0]["data"]["aliases_after"]["champion"] == "2"
    assert len(events(client, reader, watched, "rollout.step")) == 3


def test_an_erroring_candidate_is_rolled_back_by_itself(
    client: TestClient,
    admin: dict[str, str],
    reader: dict[str, str],
    ingest: dict[str, str],
    controller: RolloutController,
    mlflow_store: MlflowStore,
    watched: str,
) -> None:
    rollout = start(client, admin, watched, max_failed_checks=2)
    rollout = bake(client, admin, controller, rollout, seed=1, error_share=0.3)
    assert (rollout["state"], rollout["weight"], rollout["failed_checks"]) == ("progressing", 5, 1)
    assert "baking it again" in rollout["reason"]
    rollout = bake(client, admin, controller, rollout, seed=2, error_share=0.3)
    assert (rollout["state"], rollout["weight"]) == ("rolled_back", 0)
    assert "error_rate" in rollout["reason"]
    assert aliases(mlflow_store, watched) == {
        "champion": "1",
        "challenger": "2",
        "previous": None,
    }
    assert stable_only(client, ingest, watched) == [("stable", "1", "http://127.0.0.1:9001", 100)]
    rolled_back = events(client, reader, watched, "rollout.rolled_back")
    assert rolled_back[0]["severity"] == "error"
    assert rolled_back[0]["data"]["rollout_id"] == rollout["id"]


def test_a_candidate_with_shifted_predictions_is_rolled_back_by_the_psi_check(
    client: TestClient,
    admin: dict[str, str],
    reader: dict[str, str],
    controller: RolloutController,
    mlflow_store: MlflowStore,
    watched: str,
) -> None:
    rollout = rolled_back_in_one_step(client, admin, controller, watched, seed=3, shift=0.3)
    outcomes = {
        check["name"]: check["outcome"] for check in checks(client, reader, watched, rollout)
    }
    assert outcomes == {
        "error_rate": "passed",
        "latency_p99": "passed",
        "prediction_psi": "failed",
        "accuracy": "inconclusive",
    }
    assert aliases(mlflow_store, watched)["champion"] == "1"


def test_too_few_requests_pause_the_rollout_as_inconclusive(
    client: TestClient,
    admin: dict[str, str],
    reader: dict[str, str],
    controller: RolloutController,
    watched: str,
) -> None:
    rollout = start(client, admin, watched)
    rollout = bake(client, admin, controller, rollout, seed=4, canary=10)
    assert (rollout["state"], rollout["weight"]) == ("progressing", 5)
    assert rollout["reason"] == (
        "baking on at step 1 of 4 (5%): canary served 10 requests; min_requests is 30"
    )
    rollout = bake(
        client, admin, controller, rollout, seed=5, stable=0, canary=0, after=STARVED_PAST
    )
    assert (rollout["state"], rollout["weight"], rollout["failed_checks"]) == ("paused", 5, 0)
    assert rollout["reason"] == (
        "inconclusive at step 1 of 4 (5%): canary served 10 requests; min_requests is 30; "
        "resume to bake it again"
    )
    assert events(client, reader, watched, "rollout.paused")[0]["severity"] == "warning"


def test_a_step_short_of_requests_bakes_on_and_passes_once_late_records_arrive(
    client: TestClient,
    admin: dict[str, str],
    controller: RolloutController,
    watched: str,
) -> None:
    """A sidecar replaying its spool after an outage delivers a step's records late."""
    rollout = start(client, admin, watched)
    early = bake(client, admin, controller, rollout, seed=5, canary=10)
    assert early["state"] == "progressing" and early["reason"].startswith("baking on")
    late = bake(
        client, admin, controller, rollout, seed=6, stable=0, canary=90, after=2 * PAST_BAKE
    )
    assert (late["state"], late["weight"]) == ("progressing", 25), late["reason"]


def test_a_new_controller_on_the_same_store_carries_on(
    client: TestClient,
    admin: dict[str, str],
    reader: dict[str, str],
    controller: RolloutController,
    settings: Settings,
    database_url: str,
    watched: str,
) -> None:
    rollout = bake(client, admin, controller, start(client, admin, watched), seed=5)
    assert rollout["weight"] == 25
    restarted = RolloutController(make_engine(database_url), settings)
    step_started = datetime.fromisoformat(rollout["step_started_at"])
    restarted.tick(now=step_started + timedelta(seconds=BAKE_SECONDS / 2))  # still baking
    still = client.get(f"/api/v1/models/{watched}/rollouts/{rollout['id']}", headers=reader)
    assert still.json()["weight"] == 25
    rollout = bake(client, admin, restarted, rollout, seed=6)
    assert (rollout["state"], rollout["weight"]) == ("progressing", 50)
    restarted.engine.dispose()


def test_promoting_by_hand_moves_the_aliases_at_once(
    client: TestClient,
    admin: dict[str, str],
    ingest: dict[str, str],
    mlflow_store: MlflowStore,
    watched: str,
) -> None:
    rollout = start(client, admin, watched)
    reply = client.post(f"/api/v1/models/{watched}/rollouts/{rollout['id']}/promote", headers=admin)
    assert reply.status_code == 200, reply.text
    assert (reply.json()["state"], reply.json()["reason"]) == ("promoted", "promoted by hand")
    assert aliases(mlflow_store, watched)["champion"] == "2"
    assert stable_only(client, ingest, watched)[0][2] == "http://127.0.0.1:9002"


def test_a_less_accurate_candidate_is_rolled_back_once_labels_arrive(
    client: TestClient,
    admin: dict[str, str],
    reader: dict[str, str],
    controller: RolloutController,
    watched: str,
) -> None:
    rollout = rolled_back_in_one_step(
        client, admin, controller, watched, seed=7, canary_wrong_share=0.3
    )
    recorded = checks(client, reader, watched, rollout)
    accuracy = next(check for check in recorded if check["name"] == "accuracy")
    assert accuracy["outcome"] == "failed"
    assert accuracy["stable_value"] == 1.0
    assert accuracy["canary_value"] < 0.8
    assert (accuracy["n_stable"], accuracy["n_canary"]) == (100, 100)


def test_the_shadow_phase_ends_in_the_first_step(
    client: TestClient,
    admin: dict[str, str],
    controller: RolloutController,
    watched: str,
) -> None:
    rollout = start(client, admin, watched, shadow_seconds=5)
    started = datetime.fromisoformat(rollout["step_started_at"])
    controller.tick(now=started + timedelta(seconds=4))
    url = f"/api/v1/models/{watched}/rollouts/{rollout['id']}"
    assert client.get(url, headers=admin).json()["state"] == "shadowing"
    controller.tick(now=started + timedelta(seconds=5))
    read = client.get(url, headers=admin).json()
    assert (read["state"], read["weight"]) == ("progressing", 5)
    assert read["step_started_at"] == (started + timedelta(seconds=5)).isoformat().replace(
        "+00:00", "Z"
    )


def test_a_promotion_mlflow_refuses_keeps_the_last_step_and_says_why(
    client: TestClient,
    admin: dict[str, str],
    controller: RolloutController,
    mlflow_store: MlflowStore,
    watched: str,
) -> None:
    rollout = start(client, admin, watched, steps=[100], candidate_version="99")
    rollout = bake(client, admin, controller, rollout, seed=8)
    assert (rollout["state"], rollout["weight"]) == ("progressing", 100)
    assert "was not promoted" in rollout["reason"]
    assert "version 99" in rollout["reason"]
    assert aliases(mlflow_store, watched)["champion"] == "1"
