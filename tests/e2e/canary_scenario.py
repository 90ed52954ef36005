"""The pieces of the canary-rollout end-to-end tests, as real processes: scikit-learn versions of
the breast-cancer model registered in a SQLite MLflow store, two `mlflow models serve` per
scenario (version 1 stable, version 2 candidate), a `monitor sidecar` in front of them, callers
with random user ids sending traffic through it and the ground truth following on the labels
API, and readers of the control plane's rollouts, checks, events and records."""

import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import cloudpickle
import httpx
import mlflow
import mlflow.pyfunc
import numpy as np
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.protos.databricks_pb2 import INTERNAL_ERROR
from mlflow.pyfunc.model import PythonModel

from examples.retrain_sklearn import build_model, log_model
from monitor.demo.data import (
    TrafficSource,
    cancer_frame,
    feature_names,
    model_payload,
    training_rows,
)
from monitor.deployers.mlflow_local import MlflowModelServer
from tests.e2e.server import MonitorServer, bearer
from tests.retraining.scenario import kept_tracking_uri
from tests.sidecar.processes import Process, start_sidecar

POLL_S = 0.2
ROLLOUT_LIMIT_S = 120.0
ARRIVAL_LIMIT_S = 60.0
# Every scenario judges with these. The p99 latency of a few dozen requests on a busy 2-core
# test machine swings by x4 between two servers of the same model, and the accuracy of a few
# dozen labels by several points; neither is what a scenario here is about, so their bounds
# are wide enough for that noise (the product's defaults stay as they are).
THRESHOLDS = {"max_p99_latency_ratio": 20.0, "max_accuracy_drop": 0.2, "min_labels": 20}


class Candidate(StrEnum):
    """What version 2 of a scenario's model is."""

    GOOD = "good"  # retrained on the same rows: exactly as good as version 1
    FAILING = "failing"  # its scoring server answers 500 to every request
    SHIFTED = "shifted"  # version 1's model with 0.3 added to its positive-class score


# --- MLflow: the logged models, and a registered model per scenario -----------------------------


@dataclass(frozen=True)
class LoggedModel:
    model_uri: str
    model_id: str | None


@dataclass(frozen=True)
class MlflowStore:
    uri: str
    artifacts: Path
    baseline: LoggedModel
    candidates: dict[Candidate, LoggedModel]

    def client(self) -> MlflowClient:
        return MlflowClient(self.uri, registry_uri=self.uri)

    def register(self, name: str, candidate: Candidate) -> None:
        """`name` with version 1 (the baseline, @champion) and 2 (`candidate`, @challenger)."""
        client = self.client()
        client.create_registered_model(name)
        # Registration resolves a logged model through the process's tracking URI.
        with kept_tracking_uri():
            mlflow.set_tracking_uri(self.uri)
            for logged in (self.baseline, self.candidates[candidate]):
                client.create_model_version(name, logged.model_uri, model_id=logged.model_id)
        client.set_registered_model_alias(name, "champion", "1")
        client.set_registered_model_alias(name, "challenger", "2")

    def aliases(self, name: str) -> dict[str, str]:
        model = self.client().get_registered_model(name)
        return {alias: str(version) for alias, version in model.aliases.items()}


class FailingModel(PythonModel):  # type: ignore[misc]
    """A candidate whose scorer crashes: MLflow's scoring server answers 500."""

    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        raise MlflowException("the candidate's scorer crashed", error_code=INTERNAL_ERROR)


class ShiftedModel(PythonModel):  # type: ignore[misc]
    """A fitted classifier whose positive-class probability is moved up by `shift`."""

    def __init__(self, model: Any, shift: float) -> None:
        self.model = model
        self.shift = shift

    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        positive = np.clip(self.model.predict_proba(model_input)[:, 1] + self.shift, 0.0, 1.0)
        return np.column_stack([1.0 - positive, positive])


def log_models(root: Path) -> MlflowStore:
    """Train and log the baseline and every kind of candidate once, in a SQLite store."""
    uri = f"sqlite:///{root / 'mlflow.db'}"
    artifacts = root / "artifacts"
    frame = cancer_frame()
    training = training_rows(frame)
    names = feature_names(frame)
    x = training[names]
    features = [{"name": name, "kind": "numerical"} for name in names]

    def fitted() -> Any:
        model = build_model(features, "binary_classification", "linear", seed=0)
        return model.fit(x, training["label"])

    experiment = MlflowClient(uri).create_experiment("canary", artifact_location=artifacts.as_uri())
    logged: dict[str, LoggedModel] = {}
    pyfuncs = {
        Candidate.FAILING: FailingModel(),
        Candidate.SHIFTED: ShiftedModel(fitted(), shift=0.3),
    }
    with kept_tracking_uri():
        mlflow.set_tracking_uri(uri)
        for kind in ("baseline", Candidate.GOOD):  # the same rows twice: equally good models
            with mlflow.start_run(experiment_id=experiment, run_name=kind):
                info = log_model(fitted(), x)
            logged[kind] = LoggedModel(info.model_uri, info.model_id)
        # By value: the scoring server cannot import this test module.
        cloudpickle.register_pickle_by_value(sys.modules[__name__])
        try:
            for kind, python_model in pyfuncs.items():
                with mlflow.start_run(experiment_id=experiment, run_name=kind):
                    info = mlflow.pyfunc.log_model(
                        name="model",
                        python_model=python_model,
                        signature=infer_signature(x),
                        pip_requirements=["mlflow", "scikit-learn"],
                    )
                logged[kind] = LoggedModel(info.model_uri, info.model_id)
        finally:
            cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    baseline = logged.pop("baseline")
    return MlflowStore(uri, artifacts, baseline, {Candidate(k): v for k, v in logged.items()})


# --- The control plane --------------------------------------------------------------------------


def control_plane_settings(store: MlflowStore) -> dict[str, str]:
    return {
        "MONITOR_MLFLOW_TRACKING_URI": store.uri,
        "MONITOR_MLFLOW_ARTIFACT_ROOT": str(store.artifacts),
        "MONITOR_ROLLOUT_TICK_SECONDS": "0.5",
        "MONITOR_SCHEDULER_POLL_SECONDS": "0.5",
        "MONITOR_SCHEDULER_SYNC_SECONDS": "0.5",
        "MONITOR_DELIVERY_POLL_SECONDS": "0.5",
        "MONITOR_RETRAINING_POLL_SECONDS": "0.5",
    }


@dataclass
class ControlPlane:
    server: MonitorServer
    admin: httpx.Client
    ingest_key: str

    @classmethod
    @contextmanager
    def running(cls, workdir: Path, store: MlflowStore) -> Iterator["ControlPlane"]:
        workdir.mkdir(parents=True, exist_ok=True)
        server = MonitorServer(workdir, control_plane_settings(store))
        server.start()
        try:
            admin_key, ingest_key = server.create_key("admin"), server.create_key("ingest")
            with httpx.Client(
                base_url=server.base_url, headers=bearer(admin_key), timeout=30.0
            ) as admin:
                yield cls(server, admin, ingest_key)
        finally:
            server.stop()


def ok(reply: httpx.Response) -> Any:
    assert reply.status_code < 400, f"{reply.request.method} {reply.request.url}: {reply.text}"
    return reply.json() if reply.content else None


# --- A scenario's serving stack -----------------------------------------------------------------


@dataclass
class Stack:
    """A model `name` in the control plane, its two served versions and the sidecar."""

    name: str
    plane: ControlPlane
    store: MlflowStore
    stable_url: str
    candidate_url: str
    sidecar: Process

    @property
    def api(self) -> httpx.Client:
        return self.plane.admin

    def sidecar_status(self) -> dict[str, Any]:
        status: dict[str, Any] = httpx.get(f"{self.sidecar.url}/sidecar/status", timeout=10).json()
        return status

    def sidecar_weights(self) -> dict[str, int]:
        return {v["name"]: v["weight"] for v in self.sidecar_status()["variants"]}

    def start_rollout(self, **spec: Any) -> dict[str, Any]:
        body = {
            "candidate_endpoint": f"{self.name}-v2",
            "candidate_version": "2",
            "thresholds": THRESHOLDS,
            **spec,
        }
        rollout: dict[str, Any] = ok(
            self.api.post(f"/api/v1/models/{self.name}/rollouts", json=body)
        )
        return rollout

    def rollout(self, rollout_id: int) -> dict[str, Any]:
        found: dict[str, Any] = ok(
            self.api.get(f"/api/v1/models/{self.name}/rollouts/{rollout_id}")
        )
        return found

    def checks(self, rollout_id: int) -> list[dict[str, Any]]:
        reply = ok(self.api.get(f"/api/v1/models/{self.name}/rollouts/{rollout_id}/checks"))
        checks: list[dict[str, Any]] = reply["data"]
        return checks

    def routing(self) -> dict[str, Any]:
        routing: dict[str, Any] = ok(self.api.get(f"/api/v1/models/{self.name}/routing"))
        return routing

    def events(self, *types: str) -> list[dict[str, Any]]:
        """This model's events of `types`, oldest first."""
        params: dict[str, Any] = {"model": self.name, "type": list(types), "limit": 1000}
        events: list[dict[str, Any]] = ok(self.api.get("/api/v1/events", params=params))["data"]
        return events[::-1]

    def describe(self, rollout_id: int) -> str:
        """The rollout's transitions and checks, for assertion messages."""
        try:
            rollout, checks = self.rollout(rollout_id), self.checks(rollout_id)
        except (AssertionError, httpx.HTTPError) as error:
            return f"(the rollout could not be read: {error})"
        lines = [f"rollout {rollout_id}: {rollout['state']} at {rollout['weight']}%"]
        lines += [
            f"  {t['time']} {t['state']} {t['weight']}%: {t['reason']}"
            for t in rollout["transitions"]
        ]
        lines += [
            f"  check step {c['step_index']} ({c['weight']}%) {c['name']}: {c['outcome']} "
            f"(n {c['n_stable']}/{c['n_canary']}) {c['detail']}"
            for c in checks
        ]
        return "\n".join(lines)

    def wait_for_rollout(
        self,
        rollout_id: int,
        what: str,
        done: Callable[[dict[str, Any]], bool],
        within: float = ROLLOUT_LIMIT_S,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            rollout = self.rollout(rollout_id)
            if done(rollout):
                return rollout
            time.sleep(POLL_S)
        try:
            sidecar = self.sidecar_status()
        except httpx.HTTPError as error:
            sidecar = {"unreadable": repr(error)}
        raise AssertionError(
            f"{what} within {within:.0f} s\n{self.describe(rollout_id)}\n"
            f"sidecar: {sidecar}\nsidecar log:\n{self.sidecar.log_tail(15)}"
        )

    def wait_for_sidecar(self, weights: dict[str, int], within: float = 30.0) -> None:
        """Until the sidecar applies a routing with these weights."""
        wait_until(
            f"the sidecar did not apply the routing {weights} (it has {{}})",
            lambda: self.sidecar_weights() == weights,
            within,
            lambda: self.sidecar_weights(),
        )

    def stored(self, start: str | None = None) -> list[dict[str, Any]]:
        """Every record of this model the control plane holds (from `start` on), oldest first."""
        records: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 10_000, **({"start": start} if start else {})}
        while True:
            page = ok(self.api.get(f"/api/v1/models/{self.name}/inferences", params=params))
            records += page["data"]
            if not page.get("next_cursor") or not page["data"]:
                return records
            params["cursor"] = page["next_cursor"]

    def wait_for_records(
        self, ids: set[str], within: float = ARRIVAL_LIMIT_S
    ) -> list[dict[str, Any]]:
        """The stored records of `ids` (every one of them, and any duplicate), once all arrived."""
        found: list[dict[str, Any]] = []

        def arrived() -> bool:
            found[:] = [record for record in self.stored() if record["request_id"] in ids]
            return {record["request_id"] for record in found} == ids

        wait_until(
            "records did not arrive: {}",
            arrived,
            within,
            lambda: sorted(ids - {record["request_id"] for record in found})[:10],
        )
        return found


def wait_until(
    message: str,
    check: Callable[[], bool],
    within: float,
    detail: Callable[[], Any] = lambda: "",
) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(POLL_S)
    raise AssertionError(f"{message.format(detail())} (waited {within:.0f} s)")


@contextmanager
def serving_stack(
    plane: ControlPlane, store: MlflowStore, workdir: Path, name: str, candidate: Candidate
) -> Iterator[Stack]:
    """Register `name` (MLflow and control plane), serve versions 1 and 2, register them as
    endpoints (version 1 first: the stable one) and put a sidecar in front."""
    workdir.mkdir(parents=True, exist_ok=True)
    store.register(name, candidate)
    ok(plane.admin.post("/api/v1/models", json={**model_payload(cancer_frame()), "name": name}))
    servers = [
        MlflowModelServer(
            name, version, tracking_uri=store.uri, log_path=workdir / f"model-v{version}.log"
        )
        for version in ("1", "2")
    ]
    with ExitStack() as stack:
        for server in servers:
            stack.callback(server.stop)
        with ThreadPoolExecutor(len(servers)) as pool:  # each takes seconds to load
            stable_url, candidate_url = pool.map(lambda server: server.start(), servers)
        for version, url in (("1", stable_url), ("2", candidate_url)):
            endpoint = {"name": f"{name}-v{version}", "url": url, "protocol": "mlflow"}
            endpoint |= {"accelerator": "cpu", "model_version": version}
            ok(plane.admin.post(f"/api/v1/models/{name}/endpoints", json=endpoint))
        sidecar = start_sidecar(
            workdir,
            {
                "--model": name,
                "--control-plane": plane.server.base_url,
                "--api-key": plane.ingest_key,
                "--upstream": stable_url,
                "--spool-dir": str(workdir / "spool"),
                "--routing-poll-seconds": "0.3",
                "--flush-seconds": "0.2",
            },
        )
        stack.callback(sidecar.stop)
        scenario = Stack(name, plane, store, stable_url, candidate_url, sidecar)
        scenario.wait_for_sidecar({"stable": 100})
        yield scenario


# --- Traffic ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Served:
    request_id: str  # as the sidecar named the record; empty when there was no answer
    user: str
    status: int  # 0: no answer at all
    variant: str | None
    version: str | None
    sent_at: float  # time.monotonic() when sent
    answered_at: float


class Callers:
    """Scoring requests through the sidecar, one row each, as callers with random user ids."""

    def __init__(self, sidecar_url: str, seed: int) -> None:
        self.sidecar_url = sidecar_url
        self.source = TrafficSource.from_frame(cancer_frame(), seed=seed)
        self.columns = feature_names(self.source.pool)
        self.labels: dict[str, str] = {}  # the truth of every request sent
        self._lock = threading.Lock()
        self._local = threading.local()
        self._clients: list[httpx.Client] = []

    def call(self, user: str) -> Served:
        with self._lock:
            values, label = self.source.draw()
        client: httpx.Client | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = httpx.Client(base_url=self.sidecar_url, timeout=30.0)
            with self._lock:
                self._clients.append(client)
        body = {"dataframe_split": {"columns": self.columns, "data": [values]}}
        sent_at = time.monotonic()
        try:
            reply = client.post("/invocations", json=body, headers={"X-User-Id": user})
        except httpx.TransportError:
            return Served("", user, 0, None, None, sent_at, time.monotonic())
        request_id = reply.headers["X-Request-Id"]  # the sidecar's id of the record
        with self._lock:
            self.labels[request_id] = label
        return Served(
            request_id,
            user,
            reply.status_code,
            reply.headers.get("X-Model-Variant"),
            reply.headers.get("X-Model-Version"),
            sent_at,
            time.monotonic(),
        )

    def call_all(self, users: list[str], threads: int) -> list[Served]:
        """One request per entry of `users`, as fast as `threads` callers go."""
        try:
            with ThreadPoolExecutor(threads) as pool:
                return list(pool.map(self.call, users, chunksize=16))
        finally:
            self.close()

    def close(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()


def random_users(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [f"user-{rng.getrandbits(64):016x}" for _ in range(count)]


@dataclass
class Traffic:
    """Steady traffic through the sidecar (`rate` requests a second from `threads` callers,
    users drawn at random from a pool) with the labels of the answered requests posted to the
    control plane a moment later; kept going while the control plane is away."""

    stack: Stack
    rate: float = 100.0
    threads: int = 4
    seed: int = 0
    users: int = 1000
    served: list[Served] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.callers = Callers(self.stack.sidecar.url, self.seed)
        self._pool = random_users(self.users, self.seed)
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._unlabelled: list[str] = []
        self._workers: list[threading.Thread] = []

    def __enter__(self) -> "Traffic":
        self._workers = [
            threading.Thread(target=self._call, daemon=True) for _ in range(self.threads)
        ]
        self._workers.append(threading.Thread(target=self._label, daemon=True))
        for worker in self._workers:
            worker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=30)
        self.callers.close()

    def snapshot(self) -> list[Served]:
        with self._lock:
            return list(self.served)

    def count(self, since: float = 0.0, variant: str | None = None) -> int:
        return sum(
            1
            for served in self.snapshot()
            if served.sent_at >= since and (variant is None or served.variant == variant)
        )

    def _call(self) -> None:
        interval = self.threads / self.rate
        next_at = time.monotonic()
        while not self._stop.is_set():
            with self._lock:
                user = self._rng.choice(self._pool)
            served = self.callers.call(user)
            with self._lock:
                self.served.append(served)
                if served.status == 200:
                    self._unlabelled.append(served.request_id)
            next_at = max(next_at + interval, time.monotonic() - 1.0)
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def _label(self) -> None:
        headers = bearer(self.stack.plane.ingest_key)
        url = f"{self.stack.plane.server.base_url}/api/v1/models/{self.stack.name}/labels"
        with httpx.Client(headers=headers, timeout=10.0) as api:
            while not self._stop.wait(0.5):
                with self._lock:
                    ids, self._unlabelled = self._unlabelled, []
                if not ids:
                    continue
                labels = [{"request_id": i, "label": self.callers.labels[i]} for i in ids]
                try:
                    api.post(url, json={"labels": labels}).raise_for_status()
                except httpx.HTTPError:  # the control plane is away: keep them for later
                    with self._lock:
                        self._unlabelled = ids + self._unlabelled


def variant_counts(served: list[Served]) -> Counter[str | None]:
    return Counter(s.variant for s in served)


def weights_passed(rollout: dict[str, Any]) -> list[int]:
    """The weights the rollout's progressing steps had, in order (a step baked again once)."""
    weights: list[int] = []
    for step in rollout["transitions"]:
        if step["state"] == "progressing" and (not weights or weights[-1] != step["weight"]):
            weights.append(step["weight"])
    return weights
