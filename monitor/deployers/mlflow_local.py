"""A model version served on this machine by `mlflow models serve` (MLflow's scoring protocol),
as a child process: for the demo and the tests, and for trying a version before a rollout.

    with MlflowModelServer("churn", "3", tracking_uri="sqlite:///mlflow.db") as url:
        httpx.post(f"{url}/invocations", json={"dataframe_records": [...]})
"""

import os
import sys
import tempfile
from pathlib import Path
from types import TracebackType

from monitor.deployers.process import DeployError, ServiceProcess, free_port

__all__ = ["DeployError", "MlflowModelServer"]


def _mlflow_command() -> list[str]:
    """The `mlflow` script of this interpreter's environment (or `python -m mlflow`)."""
    script = Path(sys.executable).with_name("mlflow")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mlflow"]


class MlflowModelServer:
    """`models:/<name>/<version>` of the registry at `tracking_uri`, served in this
    environment (`--env-manager local`) on `host:port` (a free port when None)."""

    def __init__(
        self,
        name: str,
        version: str,
        *,
        tracking_uri: str,
        host: str = "127.0.0.1",
        port: int | None = None,
        workers: int = 1,
        log_path: Path | None = None,
        ready_timeout: float = 120.0,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.model_uri = f"models:/{name}/{version}"
        self.host = host
        self.port = port or free_port(host)
        command = [
            *_mlflow_command(),
            *("models", "serve", "-m", self.model_uri, "--env-manager", "local"),
            *("--host", host, "--port", str(self.port), "--workers", str(workers)),
        ]
        # mlflow starts `uvicorn` by name: this environment's scripts go first on the PATH.
        scripts = str(Path(sys.executable).parent)
        env = {
            **os.environ,
            "MLFLOW_TRACKING_URI": tracking_uri,
            "PATH": os.pathsep.join([scripts, os.environ.get("PATH", "")]),
        }
        log_path = log_path or Path(tempfile.mkdtemp(prefix="mlflow-serve-")) / "serve.log"
        self.process = ServiceProcess(
            f"mlflow models serve of {self.model_uri}",
            command,
            env=env,
            log_path=log_path,
            ready_timeout=ready_timeout,
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.process.log_path

    def start(self) -> str:
        """Start the server and return its URL once `/ping` answers 200."""
        self.process.start(f"{self.url}/ping")
        return self.url

    def stop(self) -> None:
        """Stop the server and every worker it started; the port is free afterwards."""
        self.process.stop()

    def log_tail(self, lines: int = 30) -> str:
        return self.process.log_tail(lines)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
