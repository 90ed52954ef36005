"""Drive a Triton Inference Server (started with `--model-control-mode=explicit`) through its
model repository API: write a model version into a repository, load exactly that version, wait
until it is ready, unload it.

Protocol: https://github.com/triton-inference-server/server/blob/main/docs/protocol/extension_model_repository.md

    config = TritonModelConfig(name="churn", backend="python", inputs=..., outputs=...)
    write_model_version(Path("/models"), config, version=3, source=Path("build/churn"))
    with TritonDeployer("http://triton:8000") as triton:
        triton.load(config, version=3)
"""

import json
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from monitor.entities.endpoint import Accelerator

_POLL_SECONDS = 0.1
# Fields of model_config.proto whose values are enum names, written bare in the text format.
_ENUM_FIELDS = frozenset({"data_type", "kind"})


class TritonError(RuntimeError):
    """Triton refused or failed an action; the message names the model and carries Triton's
    own words."""


@dataclass(frozen=True)
class TensorSpec:
    """One input or output tensor: `data_type` is Triton's name (`TYPE_FP32`), -1 in `dims` is a
    dimension of any size."""

    name: str
    data_type: str
    dims: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.data_type.startswith("TYPE_"):
            raise ValueError(
                f"data_type: {self.data_type!r} is not a Triton type name; use one like TYPE_FP32"
            )
        if not self.dims or any(dim < -1 or dim == 0 for dim in self.dims):
            raise ValueError(
                f"dims of {self.name!r}: {list(self.dims)} must be sizes >= 1 or -1 (any size)"
            )

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "data_type": self.data_type, "dims": list(self.dims)}


@dataclass(frozen=True)
class TritonModelConfig:
    """The part of Triton's ModelConfig (model_config.proto) the deployer writes and loads: one
    source for the repository's `config.pbtxt` and the JSON sent with a load request."""

    name: str
    backend: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    accelerator: Accelerator = Accelerator.CPU
    instances: int = 1
    max_batch_size: int = 0

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name or self.name.startswith("."):
            raise ValueError(f"name: {self.name!r} must be a plain directory name, like 'churn'")
        if not self.inputs or not self.outputs:
            raise ValueError(f"model {self.name!r}: give at least one input and one output")
        if self.instances < 1:
            raise ValueError(f"instances must be at least 1, got {self.instances}")

    def as_json(self, *, version: int | None = None) -> dict[str, Any]:
        """The config as JSON; with `version`, Triton serves that version alone."""
        config: dict[str, Any] = {
            "name": self.name,
            "backend": self.backend,
            "max_batch_size": self.max_batch_size,
            "input": [tensor.as_json() for tensor in self.inputs],
            "output": [tensor.as_json() for tensor in self.outputs],
            "instance_group": [
                {
                    "kind": "KIND_GPU" if self.accelerator is Accelerator.GPU else "KIND_CPU",
                    "count": self.instances,
                }
            ],
        }
        if version is not None:
            config["version_policy"] = {"specific": {"versions": [version]}}
        return config

    def as_pbtxt(self) -> str:
        """The config in protobuf text format, as Triton reads `config.pbtxt`."""
        return _text_format(self.as_json()) + "\n"


@dataclass(frozen=True)
class RepositoryEntry:
    """One row of the repository index: a model (version) Triton can load, and its state."""

    name: str
    version: str | None
    state: str | None
    reason: str | None


def write_model_version(
    repository: Path, config: TritonModelConfig, *, version: int, source: Path
) -> Path:
    """Copy the directory `source` to `<repository>/<name>/<version>/` and write the model's
    `config.pbtxt`. The version directory appears whole (renamed into place), so a server
    reading the repository never sees half of it. Returns the version directory."""
    if version < 1:
        raise ValueError(f"version must be a positive integer, got {version}")
    if not source.is_dir():
        raise ValueError(f"source: {source} is not a directory of model files")
    model_dir = repository / config.name
    target = model_dir / str(version)
    if target.exists():
        raise ValueError(
            f"version {version} of model {config.name!r} already exists in {repository}; "
            "versions are immutable, write the next version number instead"
        )
    model_dir.mkdir(parents=True, exist_ok=True)
    # Staged beside the target: the rename stays on one file system, hence atomic.
    staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=model_dir))
    try:
        shutil.copytree(source, staging, dirs_exist_ok=True)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    (model_dir / "config.pbtxt").write_text(config.as_pbtxt())
    return target


class TritonDeployer:
    """A client of one Triton server's model repository API and readiness endpoints."""

    def __init__(self, url: str, *, timeout: float = 120.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._client = httpx.Client(base_url=self.url, timeout=timeout)

    def load(self, config: TritonModelConfig, *, version: int) -> None:
        """Load (or reload) `version` of the model with `config`, serving that version alone,
        and return once Triton reports it ready."""
        body = {"parameters": {"config": json.dumps(config.as_json(version=version))}}
        action = f"load version {version} of model {config.name!r}"
        self._post(action, f"/v2/repository/models/{config.name}/load", body)
        self._wait(action, config.name, version=version, ready=True)

    def unload(self, name: str) -> None:
        """Unload every version of the model and return once none is ready."""
        action = f"unload model {name!r}"
        self._post(action, f"/v2/repository/models/{name}/unload", {})
        self._wait(action, name, version=None, ready=False)

    def is_ready(self, name: str, *, version: int | None = None) -> bool:
        path = f"/v2/models/{name}" if version is None else f"/v2/models/{name}/versions/{version}"
        try:
            response = self._client.get(f"{path}/ready")
        except httpx.TransportError as error:
            raise TritonError(
                f"Triton at {self.url} is unreachable, could not read whether model {name!r} "
                f"is ready: {error}"
            ) from error
        return response.status_code == 200

    def server_ready(self) -> bool:
        try:
            return self._client.get("/v2/health/ready").status_code == 200
        except httpx.TransportError:
            return False

    def index(self) -> list[RepositoryEntry]:
        """Every model in the server's repositories, loaded or not."""
        response = self._post("read the repository index", "/v2/repository/index", {})
        return [
            RepositoryEntry(
                name=entry["name"],
                version=entry.get("version"),
                state=entry.get("state"),
                reason=entry.get("reason"),
            )
            for entry in response.json()
        ]

    def _wait(self, action: str, name: str, *, version: int | None, ready: bool) -> None:
        deadline = time.monotonic() + self.timeout
        while self.is_ready(name, version=version) != ready:
            if time.monotonic() > deadline:
                states = [entry for entry in self.index() if entry.name == name]
                raise TritonError(
                    f"Triton at {self.url} did not {action} within {self.timeout:g}s: the "
                    f"model is still {'not ready' if ready else 'ready'}; index: {states}"
                )
            time.sleep(_POLL_SECONDS)

    def _post(self, action: str, path: str, body: Mapping[str, Any]) -> httpx.Response:
        try:
            response = self._client.post(path, json=body)
        except httpx.TransportError as error:
            raise TritonError(
                f"Triton at {self.url} is unreachable, could not {action}: {error}"
            ) from error
        if response.status_code >= 400:
            message = _error_message(response)
            raise TritonError(f"Triton at {self.url} could not {action}: {message}")
        return response

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "TritonDeployer":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _error_message(response: httpx.Response) -> str:
    """Triton's `{"error": "..."}` body, or the raw body where it is not JSON."""
    try:
        return str(response.json()["error"]).strip()
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}: {response.text.strip()}"


def _text_format(message: Mapping[str, Any], indent: int = 0) -> str:
    """Protobuf text format of a JSON-shaped message: a list of objects is a repeated message
    field, written as one block per item."""
    pad = "  " * indent
    lines: list[str] = []
    for key, value in message.items():
        if isinstance(value, Mapping):
            value = [value]
        if isinstance(value, list) and value and all(isinstance(item, Mapping) for item in value):
            for item in value:
                lines += [f"{pad}{key} {{", _text_format(item, indent + 1), f"{pad}}}"]
        elif isinstance(value, list):
            lines.append(f"{pad}{key}: [{', '.join(_scalar(key, item) for item in value)}]")
        else:
            lines.append(f"{pad}{key}: {_scalar(key, value)}")
    return "\n".join(lines)


def _scalar(key: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and key not in _ENUM_FIELDS:
        return json.dumps(value)
    return str(value)
