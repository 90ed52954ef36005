"""The local pipeline kinds (a Python entry point, a shell command) and the result file through
which a pipeline tells the control plane what it logged to MLflow."""

import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONTEXT_ENV = "MONITOR_RETRAIN_CONTEXT"  # path of the context JSON the pipeline reads
RESULT_ENV = "MONITOR_RETRAIN_RESULT"  # path where the pipeline writes its result JSON

ENTRY_POINT = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*$")

# Run with `python -c`, so the pipeline's interpreter (its own virtual environment, perhaps) needs
# nothing of this project; `-c` puts the working directory first on sys.path, as `-m` would.
PYTHON_WRAPPER = """
import importlib, json, os, sys
module_name, _, function_name = sys.argv[1].partition(":")
with open(os.environ["MONITOR_RETRAIN_CONTEXT"], encoding="utf-8") as handle:
    context = json.load(handle)
function = getattr(importlib.import_module(module_name), function_name)
result = function(context)
if result is not None:
    with open(os.environ["MONITOR_RETRAIN_RESULT"], "w", encoding="utf-8") as handle:
        json.dump(result, handle)
print("[pipeline] returned", json.dumps(result), flush=True)
"""


def check_entry_point(entry_point: str) -> str:
    if not ENTRY_POINT.match(entry_point):
        raise ValueError(
            f"entry_point: {entry_point!r} is not 'package.module:function', "
            "e.g. 'examples.retrain_sklearn:train'"
        )
    return entry_point


@dataclass(frozen=True, slots=True)
class PythonEntryPoint:
    """`package.module:function`, called with the context dict; what it returns (a dict) is the
    result. It runs in a child interpreter so that a timeout can kill it."""

    entry_point: str
    python: str = sys.executable

    def __post_init__(self) -> None:
        check_entry_point(self.entry_point)

    def argv(self) -> list[str]:
        return [self.python, "-c", PYTHON_WRAPPER, self.entry_point]


@dataclass(frozen=True, slots=True)
class ShellCommand:
    """A command line run by /bin/sh; it reads $MONITOR_RETRAIN_CONTEXT and writes its result
    to $MONITOR_RETRAIN_RESULT."""

    command: str

    def __post_init__(self) -> None:
        if not self.command.strip():
            raise ValueError("command: give the shell command that runs the training")

    def argv(self) -> list[str]:
        return ["/bin/sh", "-c", self.command]


LocalPipeline = PythonEntryPoint | ShellCommand


class ResultError(ValueError):
    """The pipeline's result is missing or malformed; the message says what a valid one holds."""


RESULT_HELP = (
    'write a JSON object such as {"model_uri": "models:/m-...", "mlflow_run_id": "..."} '
    'or {"registered_version": "3"}'
)


def _optional_text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ResultError(f"result field {key!r} must be a string, got {type(value).__name__}")
    return str(value)


@dataclass(frozen=True, slots=True)
class PipelineResult:
    """What the pipeline logged: a model URI to register, or a version it registered itself
    (adopted), and the MLflow run that produced it."""

    mlflow_run_id: str | None = None
    model_uri: str | None = None
    registered_version: str | None = None
    reference: str | None = None  # a reference file the pipeline wrote into its run directory

    @classmethod
    def from_mapping(cls, data: object) -> "PipelineResult":
        if not isinstance(data, Mapping):
            raise ResultError(f"the result must be a JSON object; {RESULT_HELP}")
        result = cls(
            mlflow_run_id=_optional_text(data, "mlflow_run_id"),
            model_uri=_optional_text(data, "model_uri"),
            registered_version=_optional_text(data, "registered_version"),
            reference=_optional_text(data, "reference"),
        )
        if not (result.model_uri or result.registered_version or result.mlflow_run_id):
            raise ResultError(f"the result names no model; {RESULT_HELP}")
        return result


def read_result(path: Path) -> PipelineResult:
    if not path.exists():
        raise ResultError(
            f"the pipeline exited cleanly but wrote no result to {path}: return a dict from the "
            f"entry point, or (shell commands) {RESULT_HELP} to ${RESULT_ENV}"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ResultError(f"the result in {path} is not JSON ({error}); {RESULT_HELP}") from error
    return PipelineResult.from_mapping(data)
