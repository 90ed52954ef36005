"""A real `mlflow server` (SQLite backend, local artifacts) in its own process group on a free
loopback port, for whole-system tests."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.e2e.server import clean_environment, free_port

READY_TIMEOUT_S = 120.0


@contextmanager
def running_mlflow_server(
    root: Path, environment: Mapping[str, str] | None = None
) -> Iterator[str]:
    """The server's URL while it runs; `environment` adds MLflow variables to its own."""
    port = free_port()
    log_path = root / "mlflow-server.log"
    command = [str(Path(sys.executable).with_name("mlflow")), "server", "--workers", "1"]
    command += ["--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}"]
    command += ["--default-artifact-root", str(root / "artifacts")]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    env = clean_environment({"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **(environment or {})})
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_for_health(url, process, log_path)
            yield url
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def _wait_for_health(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"mlflow server did not start:\n{log.read_text()[-3000:]}")
