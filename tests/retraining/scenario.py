"""Builders for retraining tests: a breast-cancer model with a reference, labelled production
traffic, pipelines, and a local HTTP receiver standing in for an outside orchestrator."""

import io
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from fastapi.testclient import TestClient
from mlflow.tracking import is_tracking_uri_set
from sklearn.datasets import load_breast_cancer

from monitor.store.types import utc_now

REPO = Path(__file__).resolve().parents[2]
REFERENCE_ROWS = 250
CANCER = "cancer"


def cancer_frame() -> pd.DataFrame:
    """scikit-learn's bundled breast-cancer data: 30 numerical features, `label` '0' or '1'."""
    data = load_breast_cancer(as_frame=True)
    frame = data.data.rename(columns=lambda name: name.replace(" ", "_"))
    frame["label"] = data.target.astype(str)
    return frame


def cancer_model_payload(name: str = CANCER) -> dict[str, Any]:
    features = [c for c in cancer_frame().columns if c != "label"]
    return {
        "name": name,
        "task": "binary_classification",
        "features": [{"name": n, "kind": "numerical"} for n in features],
    }


def upload_cancer_data(
    client: Any, headers: dict[str, str], *, name: str = CANCER, shift: str | None = None
) -> pd.DataFrame:
    """Register the model, upload the first rows as the labelled reference, and send the rest as
    production records (timestamps in the last hour, oldest first) with their labels. With
    `shift`, that production feature is scaled by 1.5 (drift). Returns the production rows."""
    frame = cancer_frame()
    features = [c for c in frame.columns if c != "label"]
    prediction = np.where(frame["label"] == "1", 0.9, 0.1)
    client.post("/api/v1/models", json=cancer_model_payload(name), headers=headers)
    reference = frame.iloc[:REFERENCE_ROWS].assign(prediction=prediction[:REFERENCE_ROWS])
    sink = io.BytesIO()
    reference.to_parquet(sink)
    uploaded = client.post(
        f"/api/v1/models/{name}/reference",
        content=sink.getvalue(),
        headers={**headers, "content-type": "application/x-parquet"},
    )
    assert uploaded.status_code in (200, 201), uploaded.text
    production = frame.iloc[REFERENCE_ROWS:].reset_index(drop=True)
    if shift:
        production[shift] = production[shift] * 1.5
    start = utc_now() - timedelta(hours=1)
    records = [
        {
            "request_id": f"req-{i}",
            "timestamp": (start + timedelta(seconds=5 * i)).isoformat(),
            "features": {n: float(row[n]) for n in features},
            "prediction": float(prediction[REFERENCE_ROWS + i]),
        }
        for i, row in production.iterrows()
    ]
    sent = client.post(
        f"/api/v1/models/{name}/inferences", json={"records": records}, headers=headers
    )
    assert sent.status_code == 202, sent.text
    labels = [
        {"request_id": f"req-{i}", "label": label} for i, label in enumerate(production["label"])
    ]
    labelled = client.post(
        f"/api/v1/models/{name}/labels", json={"labels": labels}, headers=headers
    )
    assert labelled.status_code in (200, 202), labelled.text
    return production


def python_pipeline(**overrides: Any) -> dict[str, Any]:
    """The example scikit-learn pipeline, run from the project folder."""
    spec: dict[str, Any] = {
        "kind": "python",
        "entry_point": "examples.retrain_sklearn:train",
        "working_dir": str(REPO),
        "timeout": "5m",
        "cooldown": "0s",
    }
    spec.update(overrides)
    return spec


def command_pipeline(command: str, **overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"kind": "command", "command": command, "cooldown": "0s"}
    spec.update(overrides)
    return spec


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Receiver:
    """A local HTTP endpoint that records what is posted to it and answers `status`."""

    url: str
    requests: list[Received] = field(default_factory=list)
    status: int = 200
    arrived: threading.Event = field(default_factory=threading.Event)


@contextmanager
def receiver(status: int = 200) -> Iterator[Receiver]:
    state = Receiver(url="")
    state.status = status

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = json.loads(self.rfile.read(length) or b"null")
            state.requests.append(Received(self.path, dict(self.headers), body))
            self.send_response(state.status)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"accepted": true}')
            state.arrived.set()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def configure(
    client: TestClient, headers: dict[str, str], spec: dict[str, Any], name: str = CANCER
) -> dict[str, Any]:
    reply = client.put(f"/api/v1/models/{name}/pipeline", json=spec, headers=headers)
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def process_gone(pid: int, within: float = 10.0) -> bool:
    """Whether process `pid` has exited (a zombie awaiting its reaper counts) within `within` s."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0]
        except FileNotFoundError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


@contextmanager
def kept_tracking_uri() -> Iterator[None]:
    """Put the test process's MLflow tracking URI back as it was afterwards (unset included),
    whatever the block sets it to."""
    previous = mlflow.get_tracking_uri() if is_tracking_uri_set() else None  # type: ignore[no-untyped-call]
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous)  # type: ignore[arg-type]
