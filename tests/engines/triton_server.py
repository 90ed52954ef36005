"""A real `tritonserver` on the CPU, from the `nvidia-pytriton` wheel in `.venv-triton`
(`make triton`), as a subprocess on free loopback ports with an empty model repository.

The wheel ships the server, its Python backend and one backend stub per Python version; the
stub embeds the interpreter of the environment it runs in, so the server gets that
interpreter's `LIBDIR` first on `LD_LIBRARY_PATH` (else the stub links the system's libpython and
crashes) and its `bin/` first on `PATH` (where the embedded interpreter finds its site-packages).
"""

import json
import os
import shutil
import signal
import subprocess
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.e2e.server import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
TRITON_VENV = Path(os.environ.get("MONITOR_TEST_TRITON_VENV", REPO_ROOT / ".venv-triton"))
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
START_ATTEMPTS = 3  # a free port can be taken by someone else before the server binds it

_PROBE = (
    "import json, sys, sysconfig; print(json.dumps({"
    "'libdir': sysconfig.get_config_var('LIBDIR'), "
    "'purelib': sysconfig.get_path('purelib'), "
    "'version': f'{sys.version_info[0]}.{sys.version_info[1]}'}))"
)


@dataclass(frozen=True)
class TritonInstall:
    """Where the pieces of the server live inside one environment's PyTriton wheel."""

    venv: Path
    python_libdir: Path
    binary: Path
    python_backend: Path
    stub: Path
    bundled_libs: Path

    @classmethod
    def find(cls, venv: Path = TRITON_VENV) -> "TritonInstall":
        """The install in `venv`; FileNotFoundError naming the fix where it is missing."""
        python = venv / "bin" / "python"
        if not python.exists():
            raise FileNotFoundError(f"no Triton environment at {venv}; run `make triton`")
        probe = json.loads(
            subprocess.run(
                [str(python), "-c", _PROBE], capture_output=True, text=True, check=True
            ).stdout
        )
        dist = Path(probe["purelib"]) / "pytriton" / "tritonserver"
        install = cls(
            venv=venv,
            python_libdir=Path(probe["libdir"]),
            binary=dist / "bin" / "tritonserver",
            python_backend=dist / "backends" / "python",
            stub=dist / "python_backend_stubs" / probe["version"] / "triton_python_backend_stub",
            bundled_libs=Path(probe["purelib"]) / "nvidia_pytriton.libs",
        )
        missing = [path for path in (install.binary, install.stub) if not path.exists()]
        if missing:
            raise FileNotFoundError(f"{missing} missing in {venv}; rebuild it with `make triton`")
        return install


class TritonServer:
    """One tritonserver in explicit model-control mode: models load only when asked."""

    def __init__(self, install: TritonInstall, workdir: Path) -> None:
        self.install = install
        self.workdir = workdir
        self.repository = workdir / "models"
        self.log_path = workdir / "tritonserver.log"
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the server and return once /v2/health/ready answers 200."""
        self.repository.mkdir(parents=True, exist_ok=True)
        backends = self._backends()
        env = {
            **os.environ,
            "LD_LIBRARY_PATH": f"{self.install.python_libdir}:{self.install.bundled_libs}",
            "PATH": f"{self.install.venv / 'bin'}:{os.environ.get('PATH', '')}",
        }
        for attempt in range(1, START_ATTEMPTS + 1):
            self.port = free_port()
            command = [
                str(self.install.binary),
                f"--model-repository={self.repository}",
                f"--backend-directory={backends}",
                "--model-control-mode=explicit",
                "--http-address=127.0.0.1",
                f"--http-port={self.port}",
                "--allow-grpc=false",
                "--allow-metrics=false",
                "--exit-timeout-secs=3",
            ]
            with self.log_path.open("ab") as log:
                self._process = subprocess.Popen(
                    command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            if self._wait_until_ready():
                return
            self.stop()
            if "address already in use" not in self.log_tail().lower() or attempt == START_ATTEMPTS:
                break
        raise RuntimeError(f"tritonserver did not become ready:\n{self.log_tail()}")

    def _backends(self) -> Path:
        """The Python backend with the stub for the environment's Python beside it, where the
        backend looks for it (the wheel keeps one stub per Python version elsewhere)."""
        backends = self.workdir / "backends"
        python_backend = backends / "python"
        if not python_backend.exists():
            shutil.copytree(self.install.python_backend, python_backend)
            shutil.copy2(self.install.stub, python_backend / "triton_python_backend_stub")
        return backends

    def _wait_until_ready(self) -> bool:
        assert self._process is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        with httpx.Client(base_url=self.url, timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    return False
                with suppress(httpx.TransportError):
                    if client.get("/v2/health/ready").status_code == 200:
                        return True
                time.sleep(0.1)
        return False

    def stop(self) -> None:
        """SIGTERM to the server and its backend stubs; SIGKILL if they linger."""
        process, self._process = self._process, None
        if process is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT_S)

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
