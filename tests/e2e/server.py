"""`monitor serve` as a real subprocess on a free loopback port, for whole-system tests.

The server gets a clean environment (no `MONITOR_*` variable of the caller leaks in), its own
working directory and a log file there, so a failed start reports the server's own words.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx

from monitor.deployers.process import environment_without_settings as clean_environment
from monitor.deployers.process import free_port

READY_TIMEOUT_S = 90.0  # a cold start imports MLflow, Dash and SHAP; slow on a loaded host
WORKER_START_S = 60.0  # each further API worker process imports the whole app afresh
STOP_TIMEOUT_S = 10.0
POLL_INTERVAL_S = 0.05
START_ATTEMPTS = 3  # a free port can be taken by someone else before the server binds it


def monitor_command(*args: str) -> list[str]:
    """The installed `monitor` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("monitor")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "monitor", *args]


class MonitorServer:
    """One `monitor serve` process at a time, restartable on the same store.

    `settings` are `MONITOR_*` variables (e.g. `{"MONITOR_DATABASE_URL": url}`); without any,
    the server uses its defaults: SQLite under `data/` in `workdir`. `workers`: API worker
    processes (`monitor serve --workers`).
    """

    def __init__(
        self, workdir: Path, settings: Mapping[str, str] | None = None, workers: int = 1
    ) -> None:
        self.workdir = workdir
        self.workers = workers
        self.env = clean_environment(settings or {})
        self.log_path = workdir / "monitor-serve.log"
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the server is not running")
        return self._process.pid

    def start(self, port: int | None = None) -> None:
        """Start the server and return once /readyz answers 200: on `port` (a restart where
        clients know the address), else on a free port."""
        if self._process is not None:
            raise RuntimeError("the server is already running")
        attempts = START_ATTEMPTS if port is None else 1
        for attempt in range(1, attempts + 1):
            self.port = port or free_port()
            with self.log_path.open("ab") as log:
                self._process = subprocess.Popen(
                    monitor_command(
                        "serve",
                        *("--host", "127.0.0.1", "--port", str(self.port)),
                        *("--workers", str(self.workers)),
                    ),
                    cwd=self.workdir,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            if self._wait_until_ready():
                return
            self.kill()
            if "address already in use" not in self.log_tail() or attempt == attempts:
                break
        raise RuntimeError(f"monitor serve did not become ready:\n{self.log_tail()}")

    def _wait_until_ready(self) -> bool:
        assert self._process is not None
        deadline = time.monotonic() + READY_TIMEOUT_S + WORKER_START_S * (self.workers - 1)
        with httpx.Client(base_url=self.base_url, timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    return False
                try:
                    if client.get("/readyz").status_code == 200:
                        return True
                except httpx.TransportError:
                    pass
                time.sleep(POLL_INTERVAL_S)
        return False

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, as in a crash or an OOM kill. The whole process
        group (the server runs in a session of its own), so no API worker outlives it."""
        if self._process is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait(timeout=STOP_TIMEOUT_S)
        self._process = None

    def stop(self) -> None:
        """SIGTERM and a graceful shutdown; SIGKILL if it takes too long."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=STOP_TIMEOUT_S)
        self.kill()

    def create_key(self, scope: str) -> str:
        """A new API key from `monitor keys create` on this server's store."""
        completed = subprocess.run(
            monitor_command("keys", "create", "--scope", scope, "--name", "e2e"),
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return completed.stdout.strip().splitlines()[-1]

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def running_server(
    workdir: Path, settings: Mapping[str, str] | None = None
) -> Iterator[MonitorServer]:
    server = MonitorServer(workdir, settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
