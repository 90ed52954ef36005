"""Real processes around a sidecar: an iris classifier logged to MLflow (SQLite tracking store)
and served by `mlflow models serve`, and `monitor sidecar` itself, with waits for what it ships
to arrive at the control plane. Used by the end-to-end tests and by benchmarks/sidecar.py."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.server import MonitorServer, clean_environment, free_port, monitor_command

READY_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 10.0
ARRIVAL_TIMEOUT_S = 60.0
IRIS = "iris"
IRIS_FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def iris_rows() -> list[list[float]]:
    from sklearn.datasets import load_iris

    return [[float(v) for v in row] for row in load_iris().data]


def iris_model_payload() -> dict[str, Any]:
    """The control plane's view of the model; petal_width may be null (the model then fails,
    which is how the tests make the model server answer an error)."""
    features = [{"name": n, "kind": "numerical"} for n in IRIS_FEATURES]
    features[-1]["nullable"] = True
    return {
        "name": IRIS,
        "task": "multiclass_classification",
        "features": features,
        "class_labels": ["0", "1", "2"],
    }


def log_iris_model(tracking_uri: str, artifacts: Path) -> str:
    """Train a logistic regression on iris, log it (scoring answers class probabilities) with
    its artifacts under `artifacts`, and return its model URI."""
    import mlflow
    import mlflow.sklearn
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    data = load_iris()
    x = pd.DataFrame(data.data, columns=IRIS_FEATURES)
    model = LogisticRegression(max_iter=500).fit(x, data.target)
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(tracking_uri)
    try:
        experiment = mlflow.create_experiment("iris", artifact_location=artifacts.as_uri())
        with mlflow.start_run(experiment_id=experiment):
            info = mlflow.sklearn.log_model(
                model,
                name="model",
                signature=infer_signature(x, model.predict_proba(x)),
                pyfunc_predict_fn="predict_proba",
                # Named, not inferred: inferring loads the model in a subprocess (seconds).
                pip_requirements=["scikit-learn"],
            )
    finally:
        mlflow.set_tracking_uri(previous)
    return str(info.model_uri)


@dataclass
class Process:
    """A started server process in its own session, with its log file."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=STOP_TIMEOUT_S)


def start_process(
    command: list[str], env: Mapping[str, str], log: Path, url: str, probe: str
) -> Process:
    with log.open("ab") as sink:
        process = subprocess.Popen(
            command,
            env=clean_environment(env),
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    started = Process(process, url, log)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}{probe}", timeout=2.0).status_code == 200:
                return started
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    started.stop()
    raise RuntimeError(f"{command[0]} did not become ready:\n{started.log_tail()}")


@contextmanager
def model_server(
    model_uri: str, tracking_uri: str, workdir: Path, workers: int = 1
) -> Iterator[Process]:
    """`mlflow models serve` of `model_uri` in this environment, on a free loopback port."""
    port = free_port()
    command = [str(Path(sys.executable).with_name("mlflow")), "models", "serve", "-m", model_uri]
    command += ["--env-manager", "local", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers)]
    # The scoring server execs `uvicorn` by name: this environment's scripts go first on PATH.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {"MLFLOW_TRACKING_URI": tracking_uri, "PATH": path}
    server = start_process(
        command, env, workdir / "model-server.log", f"http://127.0.0.1:{port}", "/ping"
    )
    try:
        yield server
    finally:
        server.stop()


def start_sidecar(workdir: Path, options: Mapping[str, str]) -> Process:
    """`monitor sidecar` with `options` (e.g. {"--model": "iris"}), on a free loopback port,
    returned once `/sidecar/healthz` answers."""
    port = free_port()
    command = monitor_command("sidecar", "--port", str(port))
    for option, value in options.items():
        command += [option, value]
    url = f"http://127.0.0.1:{port}"
    return start_process(command, {}, workdir / "sidecar.log", url, "/sidecar/healthz")


@contextmanager
def sidecar_client(
    workdir: Path, control_plane: MonitorServer, *, model: str, upstream: str, **options: str
) -> Iterator[httpx.Client]:
    """A `monitor sidecar` for `model` in front of `upstream`, shipping to `control_plane` with
    a new ingest key every 0.2 s and spooling under `workdir`, and a client on it; `options`
    add command-line options (`routing_poll_seconds="0.5"`: `--routing-poll-seconds 0.5`). The
    sidecar is stopped on leaving."""
    command_line = {
        "--model": model,
        "--control-plane": control_plane.base_url,
        "--api-key": control_plane.create_key("ingest"),
        "--upstream": upstream,
        "--spool-dir": str(workdir / "spool"),
        "--flush-seconds": "0.2",
        **{f"--{name.replace('_', '-')}": value for name, value in options.items()},
    }
    process = start_sidecar(workdir, command_line)
    try:
        with httpx.Client(base_url=process.url, timeout=30.0) as client:
            yield client
    finally:
        process.stop()


def wait_for(what: str, check: Callable[[], bool], within: float = ARRIVAL_TIMEOUT_S) -> None:
    """Poll `check` until it holds; fail saying `what` went wrong if it does not `within` s."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} within {within} s")


def stored_records(client: httpx.Client, model: str) -> dict[str, dict[str, Any]]:
    """The model's inference records on the control plane, by request id."""
    reply = client.get(f"/api/v1/models/{model}/inferences", params={"limit": 10_000})
    reply.raise_for_status()
    return {record["request_id"]: record for record in reply.json()["data"]}


def arrived(client: httpx.Client, model: str, ids: set[str]) -> dict[str, dict[str, Any]]:
    """The stored records with these request ids, once all have arrived."""
    found: dict[str, dict[str, Any]] = {}

    def all_stored() -> bool:
        found.update({k: v for k, v in stored_records(client, model).items() if k in ids})
        return set(found) == ids

    wait_for(f"records {sorted(ids - set(found))[:5]} did not arrive", all_stored)
    return found
