"""The MLflow registry adapter on an embedded store: registering and adopting versions with their
lineage tags, promotion and rollback as alias moves (never stages), and the gate on real models."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import mlflow
import mlflow.sklearn
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.models import infer_signature
from sklearn.linear_model import LogisticRegression

from tests.retraining.scenario import kept_tracking_uri
from triggers.registry import GateRule, Metric, RuleKind
from triggers.registry.mlflow_registry import (
    CHALLENGER,
    CHAMPION,
    PREVIOUS,
    Registry,
    RegistryError,
)

FEATURES = ["signal", "noise"]


@dataclass(frozen=True)
class Logged:
    run_id: str
    model_uri: str


@dataclass(frozen=True)
class Store:
    uri: str
    registry: Registry
    good: Logged  # learns from `signal`
    poor: Logged  # sees only `noise`


def _frame(rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"signal": rng.normal(size=rows), "noise": rng.normal(size=rows)})
    labels = np.where(frame["signal"] + rng.normal(0, 0.3, rows) > 0, "1", "0")
    return frame, labels


def _log(experiment_id: str, columns: list[str]) -> Logged:
    frame, labels = _frame(300, seed=1)
    model = LogisticRegression().fit(frame[columns], labels)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        # Fitted on a subset of columns but logged with the full signature: a weak model that
        # takes the same input as the others.
        wrapped = _Subset(model, columns)
        info = mlflow.sklearn.log_model(
            wrapped,
            name="model",
            signature=infer_signature(frame, wrapped.predict(frame)),
            serialization_format="cloudpickle",
            pip_requirements=["scikit-learn"],
        )
    return Logged(run.info.run_id, info.model_uri)


class _Subset:
    """A classifier reading only some columns (cloudpickled, defined here)."""

    def __init__(self, model: LogisticRegression, columns: list[str]) -> None:
        self.model, self.columns = model, columns
        self.classes_ = model.classes_

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return self.model.predict(frame[self.columns])

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(frame[self.columns])


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    registry = Registry(uri, artifact_root=root / "artifacts")
    with kept_tracking_uri():
        mlflow.set_tracking_uri(uri)
        experiment = registry.ensure_experiment("registry-tests")
        yield Store(uri, registry, _log(experiment, FEATURES), _log(experiment, ["noise"]))


def _name() -> str:
    return f"model-{uuid.uuid4().hex[:8]}"


def test_experiments_created_here_keep_artifacts_under_the_artifact_root(store: Store) -> None:
    experiment = MlflowClient(store.uri).get_experiment_by_name("registry-tests")
    assert experiment is not None
    assert experiment.artifact_location.endswith("/artifacts/registry-tests")
    assert store.registry.ensure_experiment("registry-tests") == experiment.experiment_id


def test_register_from_a_logged_model_uri_tags_the_lineage(store: Store) -> None:
    name = _name()
    version = store.registry.register(
        name=name,
        model_uri=store.good.model_uri,
        run_id=store.good.run_id,
        tags={"monitor.retraining_run": "7", "monitor.event": "evt_1"},
    )
    assert version.version == "1"
    assert version.run_id == store.good.run_id
    read = MlflowClient(store.uri, registry_uri=store.uri).get_model_version(name, "1")
    assert read.tags == {"monitor.retraining_run": "7", "monitor.event": "evt_1"}


def test_register_from_a_run_id_alone_finds_its_logged_model(store: Store) -> None:
    version = store.registry.register(
        name=_name(), model_uri=None, run_id=store.poor.run_id, tags={}
    )
    assert version.run_id == store.poor.run_id
    assert version.source == store.poor.model_uri


def test_register_from_a_runs_uri(store: Store) -> None:
    uri = f"runs:/{store.good.run_id}/model"
    version = store.registry.register(name=_name(), model_uri=uri, run_id=None, tags={})
    assert version.run_id == store.good.run_id


def test_adopt_tags_a_version_the_pipeline_registered(store: Store) -> None:
    name = _name()
    client = MlflowClient(store.uri, registry_uri=store.uri)
    client.create_registered_model(name)
    client.create_model_version(name, store.good.model_uri, run_id=store.good.run_id)
    adopted = store.registry.adopt(
        name=name, version="1", run_id=store.good.run_id, tags={"monitor.retraining_run": "9"}
    )
    assert adopted.tags["monitor.retraining_run"] == "9"


def test_adopt_refuses_a_version_from_another_run(store: Store) -> None:
    name = _name()
    client = MlflowClient(store.uri, registry_uri=store.uri)
    client.create_registered_model(name)
    client.create_model_version(name, store.good.model_uri, run_id=store.good.run_id)
    with pytest.raises(RegistryError, match=f"comes from MLflow run {store.good.run_id}"):
        store.registry.adopt(name=name, version="1", run_id=store.poor.run_id, tags={})


def _three_versions(store: Store) -> str:
    name = _name()
    for _ in range(3):
        store.registry.register(name=name, model_uri=store.good.model_uri, run_id=None, tags={})
    return name


def test_promotion_moves_the_champion_to_previous(store: Store) -> None:
    name = _three_versions(store)
    store.registry.promote(name, "1")
    store.registry.set_alias(name, CHALLENGER, "2")
    move = store.registry.promote(name, "2")
    assert move.before == {CHAMPION: "1", CHALLENGER: "2", PREVIOUS: None}
    assert move.after == {CHAMPION: "2", CHALLENGER: None, PREVIOUS: "1"}


def test_rollback_returns_the_champion_to_previous(store: Store) -> None:
    name = _three_versions(store)
    store.registry.promote(name, "1")
    store.registry.promote(name, "3")
    move = store.registry.rollback(name)
    assert move.after == {CHAMPION: "1", CHALLENGER: None, PREVIOUS: None}


def test_rollback_without_previous_is_refused(store: Store) -> None:
    name = _three_versions(store)
    store.registry.promote(name, "1")
    with pytest.raises(RegistryError, match="no @previous version to roll back to"):
        store.registry.rollback(name)


def test_alias_moves_never_touch_stages(store: Store) -> None:
    name = _three_versions(store)
    store.registry.promote(name, "1")
    store.registry.promote(name, "2")
    store.registry.rollback(name)
    client = MlflowClient(store.uri, registry_uri=store.uri)
    stages = {client.get_model_version(name, v).current_stage for v in ("1", "2", "3")}
    assert stages == {"None"}


def test_alias_of_an_unknown_model_reads_as_none(store: Store) -> None:
    assert store.registry.by_alias(_name(), CHAMPION) is None


def test_promoting_a_missing_version_names_it(store: Store) -> None:
    name = _three_versions(store)
    with pytest.raises(RegistryError, match=f"read version 9 of '{name}'"):
        store.registry.promote(name, "9")


RULES = (GateRule(Metric.ROC_AUC, RuleKind.NO_WORSE_THAN, 0.01),)


def _gate(store: Store, champion: Logged, candidate: Logged) -> dict[str, Any]:
    name = _name()
    store.registry.register(name=name, model_uri=champion.model_uri, run_id=None, tags={})
    store.registry.promote(name, "1")
    store.registry.register(name=name, model_uri=candidate.model_uri, run_id=None, tags={})
    holdout, truth = _frame(200, seed=2)
    return store.registry.validate(
        name=name,
        candidate_version="2",
        holdout=holdout,
        truth=truth.tolist(),
        task="binary_classification",
        class_labels=["0", "1"],
        rules=RULES,
        min_holdout_rows=30,
    ).to_dict()


def test_gate_passes_a_better_candidate(store: Store) -> None:
    result = _gate(store, champion=store.poor, candidate=store.good)
    assert result["passed"]
    assert result["champion_version"] == "1"
    assert result["candidate_metrics"]["roc_auc"] > 0.9 > result["champion_metrics"]["roc_auc"]


def test_gate_fails_a_worse_candidate(store: Store) -> None:
    result = _gate(store, champion=store.good, candidate=store.poor)
    assert not result["passed"]
    assert "breaks 'roc_auc no worse than @champion" in result["reason"]
