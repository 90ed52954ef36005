"""The MLflow model registry behind the project's own types: registering or adopting versions,
lineage tags, aliases (promotion and rollback are alias moves, never stages), and loading versions
to score the gate's held-out set. MLflow objects never leave this module."""

import os
import re
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import mlflow.pyfunc
import pandas as pd
from mlflow import MlflowClient
from mlflow.artifacts import download_artifacts
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import is_tracking_uri_set

from triggers.registry.child_scoring import ChildScoring, predictions_of, score_in_child
from triggers.registry.gate import GateResult, GateRule, judge
from triggers.registry.metrics import Predictions, task_metrics

CHAMPION = "champion"
CHALLENGER = "challenger"
PREVIOUS = "previous"
_LOGGED_MODEL_URI = re.compile(r"^models:/(m-[0-9a-f]+)$")
_RUNS_URI = re.compile(r"^runs:/([^/]+)/(.+)$")
_MISSING = {"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND", "INVALID_PARAMETER_VALUE"}
_EXISTS = {"RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"}
_GLOBAL_URI = threading.RLock()
_PROGRESS_BAR = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"


class RegistryError(RuntimeError):
    """An MLflow call failed; the message names the tracking server, the object and the fix."""


@dataclass(frozen=True, slots=True)
class ModelVersionRef:
    name: str
    version: str
    run_id: str | None
    source: str
    aliases: tuple[str, ...]
    tags: Mapping[str, str]

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


@dataclass(frozen=True, slots=True)
class AliasMove:
    """Where the aliases pointed before and after a promotion or rollback (None: unset)."""

    model: str
    before: Mapping[str, str | None]
    after: Mapping[str, str | None]


@contextmanager
def _process_tracking_uri(uri: str) -> Iterator[None]:
    """Point MLflow's process-wide tracking URI at `uri` for a call, then put it back as it was
    (unset included). Some MLflow internals read it whatever the client was given: resolving a
    `models:/m-...` source when a version is created, downloading a logged model."""
    with _GLOBAL_URI:
        os.environ[_PROGRESS_BAR] = "false"  # it would fill the service's log
        was_set = is_tracking_uri_set()  # type: ignore[no-untyped-call]
        previous = mlflow.get_tracking_uri() if was_set else None
        mlflow.set_tracking_uri(uri)
        try:
            yield
        finally:
            # None unsets it (MLflow accepts it, though its annotation does not say so).
            mlflow.set_tracking_uri(previous)  # type: ignore[arg-type]


def _ref(version: ModelVersion) -> ModelVersionRef:
    return ModelVersionRef(
        name=version.name,
        version=str(version.version),
        run_id=version.run_id or None,
        source=version.source or "",
        aliases=tuple(version.aliases or ()),
        tags=dict(version.tags or {}),
    )


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "experiment"


class Registry:
    """One tracking server (or embedded store) and its model registry.

    `artifact_root` is where experiments this class creates keep their artifacts; give it for an
    embedded store (a database URI), leave it None for a tracking server, which decides itself.
    With `scoring`, versions are loaded and scored in child processes (the control plane's
    way); without, in this process (the child's own way, and scripts').
    """

    def __init__(
        self,
        tracking_uri: str,
        *,
        artifact_root: Path | None = None,
        scoring: ChildScoring | None = None,
    ) -> None:
        self.tracking_uri = tracking_uri
        self.artifact_root = artifact_root
        self.scoring = scoring
        self._client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)

    @contextmanager
    def _calling(self, action: str) -> Iterator[None]:
        with _process_tracking_uri(self.tracking_uri):
            try:
                yield
            except (MlflowException, OSError) as error:
                message = error.message if isinstance(error, MlflowException) else str(error)
                raise RegistryError(
                    f"MLflow at {self.tracking_uri} failed to {action}: {message}"
                ) from error

    def ensure_experiment(self, name: str) -> str:
        """The id of experiment `name`, created (with its artifact location) if missing."""
        with self._calling(f"find or create experiment {name!r}"):
            found = self._client.get_experiment_by_name(name)
            if found is not None:
                return str(found.experiment_id)
            location = None
            if self.artifact_root is not None:
                location = (self.artifact_root.resolve() / _slug(name)).as_uri()
            try:
                return str(self._client.create_experiment(name, artifact_location=location))
            except MlflowException as error:
                if error.error_code not in _EXISTS:
                    raise
                created = self._client.get_experiment_by_name(name)  # a concurrent create won
                assert created is not None
                return str(created.experiment_id)

    def _resolve_source(
        self, model_uri: str | None, run_id: str | None
    ) -> tuple[str, str | None, str | None]:
        """(source, run id, logged model id) of what a pipeline reported."""
        if model_uri and (match := _LOGGED_MODEL_URI.match(model_uri)):
            logged = self._client.get_logged_model(match.group(1))
            return model_uri, logged.source_run_id or run_id, logged.model_id
        runs_match = _RUNS_URI.match(model_uri) if model_uri else None
        if runs_match is not None:
            run_id = runs_match.group(1)
            logged_id = self._logged_model_of_run(run_id, runs_match.group(2))
            if logged_id is not None:
                return f"models:/{logged_id}", run_id, logged_id
            artifact_uri = self._client.get_run(run_id).info.artifact_uri
            return f"{artifact_uri}/{runs_match.group(2)}", run_id, None
        if model_uri:
            return model_uri, run_id, None
        assert run_id is not None
        logged_id = self._logged_model_of_run(run_id, None)
        if logged_id is None:
            raise RegistryError(
                f"MLflow run {run_id} logged no model; log one (mlflow.<flavour>.log_model) or "
                "report its model_uri"
            )
        return f"models:/{logged_id}", run_id, logged_id

    def _logged_model_of_run(self, run_id: str, name: str | None) -> str | None:
        run = self._client.get_run(run_id)
        models = [
            model
            for model in self._client.search_logged_models(
                experiment_ids=[run.info.experiment_id],
                filter_string=f"source_run_id = '{run_id}'",
            )
            if name is None or model.name == name
        ]
        if len(models) > 1 and name is None:
            named = [model for model in models if model.name == "model"]
            if len(named) != 1:
                raise RegistryError(
                    f"MLflow run {run_id} logged {len(models)} models; report the one to "
                    "register as model_uri ('models:/m-...')"
                )
            models = named
        return models[0].model_id if models else None

    def register(
        self,
        *,
        name: str,
        model_uri: str | None,
        run_id: str | None,
        tags: Mapping[str, str],
    ) -> ModelVersionRef:
        """A new version of registered model `name` (created if missing) from a logged model."""
        if not model_uri and not run_id:
            raise RegistryError("nothing to register: give a model URI or an MLflow run id")
        with self._calling(f"register a version of {name!r} from {model_uri or run_id}"):
            source, run_id, model_id = self._resolve_source(model_uri, run_id)
            try:
                self._client.create_registered_model(name)
            except MlflowException as error:
                if error.error_code not in _EXISTS:
                    raise
            created = self._client.create_model_version(
                name, source, run_id=run_id, tags=dict(tags), model_id=model_id
            )
            return _ref(self._client.get_model_version(name, str(created.version)))

    def adopt(
        self, *, name: str, version: str, run_id: str | None, tags: Mapping[str, str]
    ) -> ModelVersionRef:
        """A version the pipeline registered itself, tagged with the lineage. When the pipeline
        also named its MLflow run, the version must come from that run."""
        with self._calling(f"adopt version {version} of {name!r}"):
            found = _ref(self._client.get_model_version(name, version))
            if run_id and found.run_id and found.run_id != run_id:
                raise RegistryError(
                    f"version {version} of {name!r} comes from MLflow run {found.run_id}, not "
                    f"{run_id} as the pipeline reported; report the version it registered"
                )
            self.set_tags(name, version, tags)
            return _ref(self._client.get_model_version(name, version))

    def set_tags(self, name: str, version: str, tags: Mapping[str, str]) -> None:
        with self._calling(f"tag version {version} of {name!r}"):
            for key, value in tags.items():
                self._client.set_model_version_tag(name, version, key, value)

    def version(self, name: str, version: str) -> ModelVersionRef:
        with self._calling(f"read version {version} of {name!r}"):
            return _ref(self._client.get_model_version(name, version))

    def by_alias(self, name: str, alias: str) -> ModelVersionRef | None:
        """The version `@alias` points to; None if the alias or the model does not exist."""
        with self._calling(f"read {name}@{alias}"):
            try:
                return _ref(self._client.get_model_version_by_alias(name, alias))
            except MlflowException as error:
                if error.error_code in _MISSING:
                    return None
                raise

    def set_alias(self, name: str, alias: str, version: str) -> None:
        with self._calling(f"point {name}@{alias} at version {version}"):
            self._client.set_registered_model_alias(name, alias, version)

    def delete_alias(self, name: str, alias: str) -> None:
        with self._calling(f"delete {name}@{alias}"):
            try:
                self._client.delete_registered_model_alias(name, alias)
            except MlflowException as error:
                if error.error_code not in _MISSING:
                    raise

    def _aliases(self, name: str) -> dict[str, str | None]:
        return {
            alias: (ref.version if (ref := self.by_alias(name, alias)) else None)
            for alias in (CHAMPION, CHALLENGER, PREVIOUS)
        }

    def promote(self, name: str, version: str) -> AliasMove:
        """@previous <- the current champion, @champion <- `version`; @challenger is dropped if
        it named `version`."""
        before = self._aliases(name)
        self.version(name, version)  # a clear error for a version that does not exist
        champion = before[CHAMPION]
        if champion is not None and champion != version:
            self.set_alias(name, PREVIOUS, champion)
        self.set_alias(name, CHAMPION, version)
        if before[CHALLENGER] == version:
            self.delete_alias(name, CHALLENGER)
        return AliasMove(name, before, self._aliases(name))

    def rollback(self, name: str) -> AliasMove:
        """@champion <- @previous, and @previous is removed (a second rollback has nowhere to go
        rather than flipping back)."""
        before = self._aliases(name)
        previous = before[PREVIOUS]
        if previous is None:
            raise RegistryError(
                f"{name!r} has no @previous version to roll back to; promote a version instead"
            )
        self.set_alias(name, CHAMPION, previous)
        self.delete_alias(name, PREVIOUS)
        return AliasMove(name, before, self._aliases(name))

    def predict(
        self, name: str, version: str, frame: pd.DataFrame, task: str, class_labels: Sequence[str]
    ) -> Predictions:
        """Score `frame` with a version loaded through `mlflow.pyfunc.load_model`. Class
        probabilities come from the underlying model's `predict_proba` where it has one."""
        scored = self.predict_each(name, [version], frame, task, class_labels)[version]
        if isinstance(scored, Exception):
            raise scored
        return scored

    def predict_each(
        self,
        name: str,
        versions: Sequence[str],
        frame: pd.DataFrame,
        task: str,
        class_labels: Sequence[str],
    ) -> dict[str, Predictions | Exception]:
        """Each of `versions` scored on `frame`, or the error that kept it from scoring; with
        `scoring`, all of them in one child process."""
        if self.scoring is not None:
            return score_in_child(
                self.scoring,
                tracking_uri=self.tracking_uri,
                name=name,
                versions=versions,
                frame=frame,
                task=task,
                class_labels=class_labels,
            )
        scored: dict[str, Predictions | Exception] = {}
        for version in versions:
            try:
                scored[version] = self._predict_here(name, version, frame, task, class_labels)
            except Exception as error:
                scored[version] = error
        return scored

    def _predict_here(
        self, name: str, version: str, frame: pd.DataFrame, task: str, class_labels: Sequence[str]
    ) -> Predictions:
        with self._calling(f"load version {version} of {name!r}"):
            location = self._client.get_model_version_download_uri(name, version)
            with tempfile.TemporaryDirectory(prefix="monitor-gate-") as scratch:
                local = download_artifacts(
                    artifact_uri=location, dst_path=scratch, tracking_uri=self.tracking_uri
                )
                model = mlflow.pyfunc.load_model(local)
        return predictions_of(model, frame, task, class_labels)

    def gate_versions(self, name: str, candidate_version: str) -> list[str]:
        """The versions the gate scores: the candidate, then the @champion if there is one."""
        champion = self.by_alias(name, CHAMPION)
        if champion is None or champion.version == candidate_version:
            return [candidate_version]
        return [candidate_version, champion.version]

    def validate(
        self,
        *,
        name: str,
        candidate_version: str,
        holdout: pd.DataFrame,
        truth: Sequence[Any],
        task: str,
        class_labels: Sequence[str],
        rules: tuple[GateRule, ...],
        min_holdout_rows: int,
        scored: Mapping[str, Predictions | Exception] | None = None,
    ) -> GateResult:
        """The gate: candidate and @champion scored on the same held-out records. `scored`:
        each version's predictions or error, as `predict_each` gives them for `gate_versions`,
        when the caller scored them already."""
        # The versions scored already, in their order: no second look at the alias, which may
        # have moved since.
        versions = (
            list(scored) if scored is not None else self.gate_versions(name, candidate_version)
        )
        champion_version = versions[1] if len(versions) > 1 else None
        if len(holdout) < min_holdout_rows:
            return judge(
                rules,
                candidate_version=candidate_version,
                candidate_metrics={},
                champion_version=champion_version,
                champion_metrics=None,
                holdout_rows=len(holdout),
                min_holdout_rows=min_holdout_rows,
            )
        if scored is None:
            scored = self.predict_each(name, versions, holdout, task, class_labels)
        scores: dict[str, dict[str, float | None]] = {}
        for role, version in zip(("candidate", "champion"), versions, strict=False):
            predictions = scored[version]
            if isinstance(predictions, Exception):  # a model that cannot score fails the gate
                return GateResult(
                    passed=False,
                    reason=f"the {role} (version {version}) could not score the held-out "
                    f"records: {predictions}",
                    candidate_version=candidate_version,
                    champion_version=champion_version,
                    holdout_rows=len(holdout),
                )
            metrics = task_metrics(task, truth, predictions, class_labels)
            scores[role] = {metric.value: value for metric, value in metrics.items()}
        return judge(
            rules,
            candidate_version=candidate_version,
            candidate_metrics=scores["candidate"],
            champion_version=champion_version,
            champion_metrics=scores.get("champion"),
            holdout_rows=len(holdout),
            min_holdout_rows=min_holdout_rows,
        )
