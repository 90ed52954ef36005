"""`monitor demo --fast` as a user runs it: a real subprocess that stands up the control plane,
the scoring servers and the sidecar, and must show every step of the loop, in order."""

import json
import subprocess
from pathlib import Path

import pytest
from mlflow import MlflowClient

from tests.e2e.server import clean_environment, free_port, monitor_command

pytestmark = pytest.mark.slow

DEMO_LIMIT_S = 420  # the demo gives up by itself after 240 s of loop

LOOP = [
    "drift.detected",
    "retrain.started",
    "model.registered",
    "validation.passed",
    "rollout.started",
    "rollout.step",
    "rollout.promoted",
]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    workdir = tmp_path_factory.mktemp("demo") / "demo"
    done = subprocess.run(
        monitor_command("demo", "--fast", "--workdir", str(workdir), "--port", str(free_port())),
        env=clean_environment({}),
        capture_output=True,
        text=True,
        timeout=DEMO_LIMIT_S,
        check=False,
    )
    assert done.returncode == 0, f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return workdir, done.stdout


def test_the_demo_shows_every_step_of_the_loop_in_order(
    demo_run: tuple[Path, str],
) -> None:
    workdir, _ = demo_run
    kinds = [event["type"] for event in json.loads((workdir / "timeline.json").read_text())]
    firsts = [kinds.index(kind) for kind in LOOP]
    assert firsts == sorted(firsts), kinds
    assert kinds.count("rollout.step") >= 3, kinds  # 5 -> 25 -> 50 -> 100
    assert "rollout.rolled_back" not in kinds


def test_the_demo_alert_reaches_the_webhook_receiver_signed(
    demo_run: tuple[Path, str],
) -> None:
    _, output = demo_run
    assert "webhook got drift.detected (signature verified)" in output, output


def test_the_demo_promotes_the_retrained_version_in_mlflow(
    demo_run: tuple[Path, str],
) -> None:
    workdir, output = demo_run
    uri = f"sqlite:///{workdir / 'mlflow.db'}"
    aliases = MlflowClient(uri, registry_uri=uri).get_registered_model("cancer").aliases
    assert str(aliases["previous"]) == "1"
    assert str(aliases["champion"]) == "2"
    assert "dashboard: http://127.0.0.1:" in output
