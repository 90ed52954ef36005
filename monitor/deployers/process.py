"""A local service as a child process: its own process group and log file, started and waited on
until it answers, stopped with everything it spawned. Used by the local deployer and the demo."""

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

POLL_SECONDS = 0.2
STOP_SECONDS = 10.0


class DeployError(RuntimeError):
    """A service did not start; the message carries the end of its log."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on `port` now (connections closing on it do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def environment_without_settings(overrides: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without its `MONITOR_*` settings (they may point a child at
    the wrong store, or carry credentials), plus `overrides`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MONITOR_")}
    env.update(overrides)
    return env


def _signal_group(group: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signum)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


class ServiceProcess:
    """`command` as a child in a session of its own, ready once `ready_url` answers 200."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        env: Mapping[str, str],
        log_path: Path,
        ready_timeout: float = 120.0,
    ) -> None:
        self.name = name
        self.command = list(command)
        self.env = dict(env)
        self.log_path = log_path
        self.ready_timeout = ready_timeout
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, ready_url: str) -> None:
        """Start the process and return once `ready_url` answers 200 (DeployError if not)."""
        if self._process is not None:
            raise DeployError(f"{self.name} is already running")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.command,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
            )
        if not self._wait_until_ready(ready_url):
            self.stop()
            raise DeployError(
                f"{self.name} did not become ready on {ready_url} within {self.ready_timeout:g}s; "
                f"its log ({self.log_path}) ends:\n{self.log_tail()}"
            )

    def _wait_until_ready(self, ready_url: str) -> bool:
        assert self._process is not None
        deadline = time.monotonic() + self.ready_timeout
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    return False
                try:
                    if client.get(ready_url).status_code == 200:
                        return True
                except httpx.TransportError:
                    pass
                time.sleep(POLL_SECONDS)
        return False

    def stop(self) -> None:
        """SIGTERM to the process group, and return once every process of it is gone (its
        ports are free then); SIGKILL what lingers."""
        process, self._process = self._process, None
        if process is None:
            return
        _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        # Workers can outlive the process that started them by a moment.
        while _group_alive(process.pid) and time.monotonic() < deadline:
            process.poll()  # reaps the leader, which would otherwise keep the group alive
            time.sleep(POLL_SECONDS / 4)
        _signal_group(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_SECONDS)

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
