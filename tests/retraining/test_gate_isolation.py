"""The validation gate loads and scores models in a child process with a time limit and a
bounded environment: a model whose load crashes or hangs fails the gate with the reason, and
the control plane's process carries on."""

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import mlflow
import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest

from tests.retraining.gate_models import CrashesOnLoad, HangsOnLoad, SignalReader
from tests.retraining.scenario import kept_tracking_uri
from triggers.registry import GateResult, GateRule, Metric, RuleKind
from triggers.registry.child_scoring import ChildScoring, child_environment
from triggers.registry.mlflow_registry import Registry

TIMEOUT_S = 180.0  # importing MLflow in the child alone takes seconds, many on a busy machine
RULES = (GateRule(Metric.ROC_AUC, RuleKind.NO_WORSE_THAN, 0.01),)
INHERITED = ("PATH", "HOME", "LANG", "PYTHONPATH", "VIRTUAL_ENV")


@dataclass(frozen=True)
class Store:
    uri: str
    registry: Registry
    models: dict[str, str]  # model name in these tests -> logged model URI


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    root = tmp_path_factory.mktemp("gate-isolation")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    scoring = ChildScoring(timeout_seconds=TIMEOUT_S, env=child_environment(INHERITED))
    registry = Registry(uri, artifact_root=root / "artifacts", scoring=scoring)
    models = {}
    with kept_tracking_uri():
        mlflow.set_tracking_uri(uri)
        experiment = registry.ensure_experiment("gate-isolation")
        for name, model in (
            ("reads-signal", SignalReader()),
            ("crashes", CrashesOnLoad()),
            ("hangs", HangsOnLoad()),
        ):
            with mlflow.start_run(experiment_id=experiment):
                info = mlflow.pyfunc.log_model(
                    name="model", python_model=model, pip_requirements=[]
                )
            models[name] = info.model_uri
        yield Store(uri, registry, models)


def _gate(
    store: Store, candidate: str, *, champion: str = "reads-signal", timeout_s: float = TIMEOUT_S
) -> GateResult:
    name = f"gated-{uuid.uuid4().hex[:8]}"
    registry = store.registry
    registry.register(name=name, model_uri=store.models[champion], run_id=None, tags={})
    registry.promote(name, "1")
    registry.register(name=name, model_uri=store.models[candidate], run_id=None, tags={})
    assert registry.scoring is not None
    registry.scoring = ChildScoring(timeout_seconds=timeout_s, env=registry.scoring.env)
    rng = np.random.default_rng(3)
    holdout = pd.DataFrame({"signal": rng.normal(size=200)})
    truth = np.where(holdout["signal"] + rng.normal(0, 0.3, 200) > 0, "1", "0")
    return registry.validate(
        name=name,
        candidate_version="2",
        holdout=holdout,
        truth=truth.tolist(),
        task="binary_classification",
        class_labels=["0", "1"],
        rules=RULES,
        min_holdout_rows=30,
    )


def test_a_sound_candidate_is_scored_in_a_child_and_judged(store: Store) -> None:
    result = _gate(store, "reads-signal")
    assert result.passed, result.reason
    assert result.candidate_metrics["roc_auc"] == result.champion_metrics["roc_auc"]  # type: ignore[index]
    assert result.candidate_metrics["roc_auc"] > 0.9  # type: ignore[operator]


def test_a_candidate_whose_load_crashes_its_process_fails_the_gate_saying_so(
    store: Store,
) -> None:
    result = _gate(store, "crashes")
    assert not result.passed
    assert "the candidate (version 2) could not score" in result.reason
    assert "killed by SIGABRT" in result.reason
    assert os.getpid() > 0  # still here: the abort took only the child


def test_one_child_scores_both_and_a_champion_that_crashes_it_is_the_one_blamed(
    store: Store,
) -> None:
    """The candidate, scored first, is saved before the champion's load takes the child down."""
    result = _gate(store, "reads-signal", champion="crashes")
    assert not result.passed
    assert "the champion (version 1) could not score" in result.reason
    assert "killed by SIGABRT" in result.reason


def test_a_candidate_whose_load_hangs_is_killed_at_the_limit_and_fails_the_gate(
    store: Store,
) -> None:
    result = _gate(store, "hangs", timeout_s=3.0)
    assert not result.passed
    assert "did not finish within 6 s (3 s for each of 2 versions)" in result.reason
    assert "MONITOR_RETRAINING_GATE_TIMEOUT_SECONDS" in result.reason


def test_the_scoring_child_inherits_no_monitor_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_SECRET_KEYS", "not-for-models")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-listed")
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "for-the-tracking-server")
    env = child_environment(("PATH", "MONITOR_SECRET_KEYS"))
    assert "MONITOR_SECRET_KEYS" not in env
    assert "AWS_SECRET_ACCESS_KEY" not in env  # not on the allow-list
    assert (env["PATH"], env["MLFLOW_TRACKING_TOKEN"]) == (
        os.environ["PATH"],
        "for-the-tracking-server",
    )


def test_the_control_plane_scores_through_a_child(tmp_path: Path) -> None:
    from monitor.retraining.executor import registry_for
    from monitor.settings import Settings

    settings = Settings(data_dir=tmp_path, retraining_gate_timeout_seconds=42)
    scoring = registry_for(settings).scoring
    assert scoring is not None
    assert scoring.timeout_seconds == 42
