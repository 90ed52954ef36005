"""Canary rollouts end to end, with real processes only: `monitor serve`, two `mlflow models
serve` per scenario (version 1 of a scikit-learn model stable, version 2 the candidate) and a
`monitor sidecar` in front, with callers of random user ids sending traffic through it and the
ground truth posted to the labels API. Each scenario has its own model (in MLflow and in the
control plane), model servers and sidecar; the MLflow store, and the control plane for all but
the one that kills it, are shared."""

import random
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.canary_scenario import (
    Callers,
    Candidate,
    ControlPlane,
    MlflowStore,
    Traffic,
    log_models,
    random_users,
    serving_stack,
    variant_counts,
    wait_until,
    weights_passed,
)

pytestmark = pytest.mark.slow

SPLIT_REQUESTS = 5_000
SPLIT_TOLERANCE = 0.02  # the share of each variant, within two percentage points of its weight
BAKE_SECONDS = 3
MIN_REQUESTS = 3  # per variant and step: the canary's 10% of ~120-300 requests is 12-30
SHADOW_SECONDS = 6  # ample for 40 requests; the sidecar sees the shadow within half a second
SHADOW_REQUESTS = 40


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> MlflowStore:
    return log_models(tmp_path_factory.mktemp("canary-mlflow"))


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory, store: MlflowStore) -> Iterator[ControlPlane]:
    with ControlPlane.running(tmp_path_factory.mktemp("canary-control-plane"), store) as plane:
        yield plane


def test_the_split_follows_the_weights_and_each_user_stays_on_one_variant(
    plane: ControlPlane, store: MlflowStore, tmp_path: Path
) -> None:
    with serving_stack(plane, store, tmp_path, "canary-split", Candidate.GOOD) as stack:
        # A long bake keeps the rollout on its first step, the canary at 25%.
        rollout = stack.start_rollout(steps=[25, 50, 100], bake_seconds=3600)
        stack.wait_for_sidecar({"canary": 25, "stable": 75})
        # Every user calls twice, the calls shuffled: 5,000 requests from 2,500 users.
        users = random_users(SPLIT_REQUESTS // 2, seed=1) * 2
        random.Random(2).shuffle(users)
        served = Callers(stack.sidecar.url, seed=3).call_all(users, threads=8)

        assert Counter(s.status for s in served) == {200: SPLIT_REQUESTS}
        counts = variant_counts(served)
        assert set(counts) == {"stable", "canary"}, counts
        shares = {variant: count / SPLIT_REQUESTS for variant, count in counts.items()}
        assert shares["canary"] == pytest.approx(0.25, abs=SPLIT_TOLERANCE), shares
        assert shares["stable"] == pytest.approx(0.75, abs=SPLIT_TOLERANCE), shares
        assert {(s.variant, s.version) for s in served} == {("stable", "1"), ("canary", "2")}
        by_user: dict[str, set[str | None]] = {}
        for s in served:
            by_user.setdefault(s.user, set()).add(s.variant)
        split_users = {user: variants for user, variants in by_user.items() if len(variants) > 1}
        assert not split_users, f"users served by both variants: {list(split_users)[:5]}"

        # The control plane holds one record per request, each with the variant that answered.
        records = stack.wait_for_records({s.request_id for s in served})
        assert len(records) == SPLIT_REQUESTS
        answered = {s.request_id: (s.variant, s.version) for s in served}
        mismatched = [
            r["request_id"]
            for r in records
            if (r["variant"], r["model_version"]) != answered[r["request_id"]]
        ]
        assert not mismatched, f"stored with another variant than answered: {mismatched[:5]}"
        assert Counter(r["variant"] for r in records) == counts
        still = stack.rollout(rollout["id"])
        assert (still["state"], still["weight"]) == ("progressing", 25), stack.describe(
            rollout["id"]
        )


def test_a_shadowed_candidate_gets_a_copy_of_each_request_until_its_first_step(
    plane: ControlPlane, store: MlflowStore, tmp_path: Path
) -> None:
    with serving_stack(plane, store, tmp_path, "canary-shadow", Candidate.GOOD) as stack:
        # A long bake keeps the rollout on its first step once the shadow phase is over.
        rollout = stack.start_rollout(
            steps=[5, 100], bake_seconds=3600, shadow_seconds=SHADOW_SECONDS
        )
        rid = rollout["id"]

        def history() -> str:
            return f"{stack.describe(rid)}\nsidecar: {stack.sidecar_status()}"

        assert rollout["state"] == "shadowing", history()
        stack.wait_for_sidecar({"stable": 100, "shadow": 0})
        served = Callers(stack.sidecar.url, seed=8).call_all(
            random_users(SHADOW_REQUESTS, seed=9), threads=4
        )
        # Still shadowing after the last answer: every request met the shadow routing.
        assert stack.rollout(rid)["state"] == "shadowing", history()

        assert {(s.status, s.variant, s.version) for s in served} == {(200, "stable", "1")}, (
            variant_counts(served),
            history(),
        )
        ids = {s.request_id for s in served}
        try:
            records = stack.wait_for_records(ids | {f"{i}#shadow" for i in ids})
        except AssertionError as error:
            raise AssertionError(f"{error}\n{history()}") from None
        stored = Counter(r["request_id"] for r in records)
        assert set(stored.values()) == {1}, [i for i, n in stored.items() if n > 1][:5]
        by_id = {r["request_id"]: r for r in records}
        for request_id in ids:
            caller, copy = by_id[request_id], by_id[f"{request_id}#shadow"]
            assert (caller["variant"], caller["model_version"]) == ("stable", "1"), caller
            assert (copy["variant"], copy["model_version"], copy["status_code"]) == (
                "shadow",
                "2",
                200,
            ), (copy, history())
            assert copy["prediction"] is not None, copy
            assert copy["features"] == caller["features"], (copy, caller)

        done = stack.wait_for_rollout(
            rid,
            "the rollout did not leave the shadow phase for its first step",
            lambda r: r["state"] != "shadowing",
            within=SHADOW_SECONDS + 30,
        )
        steps = [(t["state"], t["weight"]) for t in done["transitions"]]
        assert steps == [("shadowing", 0), ("progressing", 5)], history()
        stack.wait_for_sidecar({"canary": 5, "stable": 95})


def test_a_good_candidate_goes_through_every_step_and_is_promoted(
    plane: ControlPlane, store: MlflowStore, tmp_path: Path
) -> None:
    with serving_stack(plane, store, tmp_path, "canary-good", Candidate.GOOD) as stack:
        with Traffic(stack, seed=4) as traffic:
            # 10% first: a loaded machine sends ~40 requests a second, not 100, and 5% of one
            # bake's share was then short of min_requests often enough to pause the step.
            rollout = stack.start_rollout(
                steps=[10, 25, 50, 100], bake_seconds=BAKE_SECONDS, min_requests=MIN_REQUESTS
            )
            rid = rollout["id"]
            done = stack.wait_for_rollout(
                rid, "the good candidate was not promoted", lambda r: r["state"] == "promoted"
            )
            stack.wait_for_sidecar({"stable": 100})
            after_promotion = time.monotonic()
            wait_until(
                "no traffic after the promotion",
                lambda: traffic.count(since=after_promotion) >= 20,
                30,
            )
        history = stack.describe(rid)
        assert weights_passed(done) == [10, 25, 50, 100], history
        steps = stack.events("rollout.step")
        assert [e["data"]["weight"] for e in steps] == [25, 50, 100], (steps, history)
        (promoted,) = stack.events("rollout.promoted")
        assert promoted["data"]["aliases_after"]["champion"] == "2", promoted
        assert store.aliases(stack.name) == {"champion": "2", "previous": "1"}
        routing = stack.routing()
        assert routing["variants"] == [
            {
                "name": "stable",
                "model_version": "2",
                "endpoint": stack.candidate_url,
                "v2_model_name": None,
                "weight": 100,
            }
        ], routing
        # The sidecar carries it out: everything after the promotion is answered by version 2.
        late = [s for s in traffic.snapshot() if s.sent_at >= after_promotion]
        assert {(s.status, s.variant, s.version) for s in late} == {(200, "stable", "2")}
        assert {s.status for s in traffic.snapshot()} == {200}


def test_a_candidate_whose_server_errors_is_rolled_back_by_itself(
    plane: ControlPlane, store: MlflowStore, tmp_path: Path
) -> None:
    with serving_stack(plane, store, tmp_path, "canary-failing", Candidate.FAILING) as stack:
        with Traffic(stack, seed=5) as traffic:
            rollout = stack.start_rollout(
                steps=[25, 50, 100], bake_seconds=BAKE_SECONDS, min_requests=MIN_REQUESTS
            )
            rid = rollout["id"]
            done = stack.wait_for_rollout(
                rid,
                "the failing candidate was not rolled back",
                lambda r: r["state"] != "progressing",
            )
            stack.wait_for_sidecar({"stable": 100})
            after_rollback = time.monotonic()
            wait_until(
                "no traffic after the rollback",
                lambda: traffic.count(since=after_rollback) >= 100,
                30,
            )
        history = stack.describe(rid)
        assert (done["state"], done["weight"]) == ("rolled_back", 0), history
        failed = {c["name"] for c in stack.checks(rid) if c["outcome"] == "failed"}
        assert failed == {"error_rate"}, history
        canary = [s for s in traffic.snapshot() if s.variant == "canary"]
        assert canary and {s.status for s in canary} == {500}, variant_counts(canary)
        (event,) = stack.events("rollout.rolled_back")
        assert (event["data"]["rollout_id"], event["data"]["weight"]) == (rid, 0), event
        assert stack.events("rollout.promoted") == []
        assert store.aliases(stack.name) == {"champion": "1", "challenger": "2"}
        routing = stack.routing()
        assert routing["variants"] == [
            {
                "name": "stable",
                "model_version": "1",
                "endpoint": stack.stable_url,
                "v2_model_name": None,
                "weight": 100,
            }
        ], routing
        # Callers are served by the stable version again, every one of them.
        late = [s for s in traffic.snapshot() if s.sent_at >= after_rollback]
        assert {(s.status, s.variant, s.version) for s in late} == {(200, "stable", "1")}


def test_a_candidate_with_shifted_predictions_is_rolled_back_by_the_psi_check(
    plane: ControlPlane, store: MlflowStore, tmp_path: Path
) -> None:
    with serving_stack(plane, store, tmp_path, "canary-shifted", Candidate.SHIFTED) as stack:
        with Traffic(stack, seed=6) as traffic:
            rollout = stack.start_rollout(
                steps=[25, 50, 100], bake_seconds=BAKE_SECONDS, min_requests=MIN_REQUESTS
            )
            rid = rollout["id"]
            done = stack.wait_for_rollout(
                rid,
                "the shifted candidate was not rolled back",
                lambda r: r["state"] != "progressing",
            )
            stack.wait_for_sidecar({"stable": 100})
        history = stack.describe(rid)
        assert (done["state"], done["weight"]) == ("rolled_back", 0), history
        checks = stack.checks(rid)
        # Its answers are fine as HTTP goes, and most still name the right class (labels
        # arrive all along): only the distribution of its scores gives it away.
        failed = {c["name"] for c in checks if c["outcome"] == "failed"}
        assert failed == {"prediction_psi"}, history
        psi = [c for c in checks if c["name"] == "prediction_psi" and c["outcome"] == "failed"]
        assert all(c["canary_value"] >= c["threshold"] for c in psi), history
        assert "prediction_psi" in done["reason"], history
        assert {s.status for s in traffic.snapshot()} == {200}
        assert len(stack.events("rollout.rolled_back")) == 1
        assert store.aliases(stack.name) == {"champion": "1", "challenger": "2"}


def test_serving_goes_on_while_the_control_plane_is_down_and_the_rollout_resumes(
    store: MlflowStore, tmp_path: Path
) -> None:
    name = "canary-outage"
    with (
        ControlPlane.running(tmp_path / "control-plane", store) as plane,
        serving_stack(plane, store, tmp_path / "serving", name, Candidate.GOOD) as stack,
        Traffic(stack, seed=7) as traffic,
    ):
        rollout = stack.start_rollout(
            steps=[10, 25, 50, 100], bake_seconds=BAKE_SECONDS, min_requests=MIN_REQUESTS
        )
        rid = rollout["id"]
        stack.wait_for_rollout(rid, "the rollout did not reach 25%", lambda r: r["weight"] == 25)
        step_started_at = stack.rollout(rid)["step_started_at"]
        # Some of the step's canary traffic is in the control plane before the crash.
        wait_until(
            "the canary at 25% served too little",
            lambda: sum(r["variant"] == "canary" for r in stack.stored(step_started_at)) >= 10,
            30,
        )
        before = stack.rollout(rid)
        assert (before["state"], before["weight"]) == ("progressing", 25), stack.describe(rid)

        port = plane.server.port
        plane.server.kill()
        down_at = time.monotonic()
        wait_until(
            "the sidecar spooled nothing while the control plane was down (status {})",
            lambda: (
                stack.sidecar_status()["spooled_batches"] >= 3
                and traffic.count(since=down_at) >= 200
            ),
            60,
            stack.sidecar_status,
        )
        plane.server.start(port=port)  # the same port and store: the sidecar knows this address
        up_at = time.monotonic()

        during = [s for s in traffic.snapshot() if down_at <= s.sent_at and s.answered_at <= up_at]
        assert len(during) >= 200
        assert Counter(s.status for s in during) == {200: len(during)}, "served during the outage"
        # Every record served during the outage arrives exactly once.
        ids = {s.request_id for s in during}
        stored = Counter(r["request_id"] for r in stack.wait_for_records(ids))
        assert stored == Counter(ids), [i for i, n in stored.items() if n > 1][:5]
        wait_until(
            "the spool was not emptied (status {})",
            lambda: stack.sidecar_status()["spooled_batches"] == 0,
            30,
            stack.sidecar_status,
        )
        assert stack.sidecar_status()["dropped_records"] == 0
        # The rollout carries on from its step and is promoted.
        done = stack.wait_for_rollout(
            rid, "the rollout did not resume to promotion", lambda r: r["state"] == "promoted"
        )
        history = stack.describe(rid)
        assert weights_passed(done) == [10, 25, 50, 100], history
        assert len(stack.events("rollout.started")) == 1, history
        assert [e["data"]["weight"] for e in stack.events("rollout.step")] == [25, 50, 100]
        assert store.aliases(name) == {"champion": "2", "previous": "1"}
        assert {s.status for s in traffic.snapshot()} == {200}
