"""Scoring registered versions in a child process: the gate loads candidate and champion
there, under a time limit and with a bounded environment, so a model whose load or predict
crashes, hangs or exhausts memory fails the gate with a reason, never the control plane. One
child scores every version the gate needs (MLflow's import alone costs it seconds), each saved
as soon as it is scored, so a version that takes the child down is the one blamed.
Run as `python -m triggers.registry.child_scoring <folder>`, this module is the child."""

import json
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from triggers.registry.metrics import REGRESSION, Predictions
from triggers.retraining.process import ProcessStatus, run_process

REQUEST_FILE = "request.json"
FRAME_FILE = "holdout.parquet"
OUTPUT_FILE = "predictions-{index}.npz"  # one per requested version, in order
LOG_FILE = "scoring.log"
REASON_CHARACTERS = 600  # of the child's last output, quoted in the gate's reason
FAILURE_PREFIX = "scoring failed: "


class ScoringFailed(RuntimeError):
    """The child could not score: it crashed, was killed, timed out or raised; the message
    says which, with the child's own last words."""


@dataclass(frozen=True, slots=True)
class ChildScoring:
    """How scoring children run: their time limit and the whole of their environment."""

    timeout_seconds: float
    env: Mapping[str, str]


def child_environment(inherited: Sequence[str]) -> dict[str, str]:
    """The `inherited` variables of this process's environment (never `MONITOR_*`: database
    URL, secret keys) and MLflow's own `MLFLOW_*` (the tracking server and its credentials,
    which downloading a version needs); nothing else."""
    return {
        name: value
        for name, value in os.environ.items()
        if (name in inherited or name.startswith("MLFLOW_")) and not name.startswith("MONITOR_")
    }


def score_in_child(
    scoring: ChildScoring,
    *,
    tracking_uri: str,
    name: str,
    versions: Sequence[str],
    frame: pd.DataFrame,
    task: str,
    class_labels: Sequence[str],
) -> dict[str, Predictions | Exception]:
    """Each of `versions` of `name` scored on `frame` by one child process, or why it was not;
    the child may take `timeout_seconds` per version."""
    limit = scoring.timeout_seconds * len(versions)
    with tempfile.TemporaryDirectory(prefix="monitor-gate-") as scratch:
        folder = Path(scratch)
        frame.to_parquet(folder / FRAME_FILE, index=False)
        labels = list(class_labels)
        request = {"name": name, "versions": list(versions), "task": task, "labels": labels}
        (folder / REQUEST_FILE).write_text(json.dumps(request))
        outcome = run_process(
            [sys.executable, "-m", __name__, str(folder)],
            env={**scoring.env, "MLFLOW_TRACKING_URI": tracking_uri},
            cwd=None,
            timeout_seconds=limit,
            log_path=folder / LOG_FILE,
            max_log_bytes=64 * 1024,
        )
        said = _failures(outcome.log_tail)
        scored: dict[str, Predictions | Exception] = {}
        for index, version in enumerate(versions):
            saved = folder / OUTPUT_FILE.format(index=index)
            if saved.exists():
                scored[version] = _load(saved)
            elif version in said:
                scored[version] = ScoringFailed(said[version])
            elif outcome.status is ProcessStatus.TIMED_OUT:
                scored[version] = ScoringFailed(
                    f"loading and scoring it did not finish within {limit:g} s "
                    f"({scoring.timeout_seconds:g} s for each of {len(versions)} versions), so "
                    "its process was killed (MONITOR_RETRAINING_GATE_TIMEOUT_SECONDS sets the "
                    "limit)"
                )
            else:
                scored[version] = ScoringFailed(
                    f"its scoring process {outcome.message.removesuffix('; see the logs')}: "
                    f"{_last_words(outcome.log_tail)}"
                )
        return scored


def _load(saved: Path) -> Predictions:
    with np.load(saved, allow_pickle=False) as arrays:
        probabilities = arrays.get("probabilities")
        return Predictions(arrays["values"], probabilities, tuple(arrays["classes"].tolist()))


def _failures(log_tail: str) -> dict[str, str]:
    """The child's own failure line of each version that raised, by version."""
    failed = {}
    for line in log_tail.splitlines():
        if line.startswith(FAILURE_PREFIX):
            version, _, reason = line.removeprefix(FAILURE_PREFIX).partition(": ")
            failed[version] = reason[-REASON_CHARACTERS:]
    return failed


def _last_words(log_tail: str) -> str:
    """What the child said last (a crash in native code says little more than its signal)."""
    lines = [line for line in log_tail.splitlines() if line and not line.startswith("[monitor]")]
    return " | ".join(lines[-3:])[-REASON_CHARACTERS:] or "no output"


def predictions_of(
    model: Any, frame: pd.DataFrame, task: str, class_labels: Sequence[str]
) -> Predictions:
    """A loaded pyfunc `model`'s predictions on `frame`. Class probabilities come from the
    underlying model's `predict_proba` where it has one."""
    output = model.predict(frame)
    values = np.asarray(output.to_numpy() if hasattr(output, "to_numpy") else output)
    if task == REGRESSION:
        return Predictions(values.reshape(len(frame), -1)[:, 0].astype(float))
    if values.ndim == 2 and values.shape[1] == len(class_labels) > 1:
        # A pyfunc that outputs probabilities, in the order of the model's class labels.
        labels = np.asarray(class_labels, dtype=str)[values.argmax(axis=1)]
        return Predictions(labels, values.astype(float), tuple(class_labels))
    labels = values.reshape(len(frame), -1)[:, 0].astype(str)
    return Predictions(labels, *_probabilities(model, frame))


def _probabilities(
    model: Any, frame: pd.DataFrame
) -> tuple[np.ndarray[Any, np.dtype[np.float64]] | None, tuple[str, ...]]:
    try:
        raw = model.get_raw_model()
    except Exception:  # flavours without a raw model: labels only, no probability metrics
        return None, ()
    if not (hasattr(raw, "predict_proba") and hasattr(raw, "classes_")):
        return None, ()
    probabilities = np.asarray(raw.predict_proba(frame), dtype=float)
    return probabilities, tuple(str(c) for c in raw.classes_)


def main(folder: Path) -> int:
    from triggers.registry.mlflow_registry import Registry  # mlflow is slow to import

    request = json.loads((folder / REQUEST_FILE).read_text())
    frame = pd.read_parquet(folder / FRAME_FILE)
    registry = Registry(os.environ["MLFLOW_TRACKING_URI"])
    for index, version in enumerate(request["versions"]):
        try:
            scored = registry.predict(
                request["name"], version, frame, request["task"], request["labels"]
            )
        except Exception as error:
            line = f"{FAILURE_PREFIX}{version}: {type(error).__name__}: {error}"
            print(line.replace("\n", " "), file=sys.stderr, flush=True)
            continue
        arrays = {"values": scored.values, "classes": np.asarray(scored.classes, dtype=str)}
        if scored.probabilities is not None:
            arrays["probabilities"] = scored.probabilities
        np.savez(folder / OUTPUT_FILE.format(index=index), **arrays)  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
