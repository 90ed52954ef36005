"""`monitor demo --fast --loops 2` as a user runs it: a real subprocess that stands up the control
plane, the scoring servers and the sidecar, and must show every step of the loop, in order,
twice: the second drift is caught against the first heal's new baseline and heals again."""

import json
import os
import signal
import subprocess
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient

from tests.e2e.server import clean_environment, free_port, monitor_command

DEMO_LIMIT_S = 600  # the demo gives up by itself after 240 s of a loop
STOP_S = 30

pytestmark = [pytest.mark.slow, pytest.mark.timeout(DEMO_LIMIT_S + STOP_S + 30)]

LOOP = [
    "drift.detected",
    "retrain.started",
    "model.registered",
    "validation.passed",
    "rollout.started",
    "rollout.step",
    "rollout.promoted",
    "monitor.rebaselined",
    "drift.resolved",
]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    workdir = tmp_path_factory.mktemp("demo") / "demo"
    demo = subprocess.Popen(
        monitor_command(
            *("demo", "--fast", "--loops", "2"),
            *("--workdir", str(workdir), "--port", str(free_port())),
        ),
        env=clean_environment({}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = demo.communicate(timeout=DEMO_LIMIT_S)
    finally:
        _stop(demo)
    assert demo.returncode == 0, f"{stdout[-4000:]}\n{stderr[-4000:]}"
    return workdir, stdout


def _stop(demo: subprocess.Popen[str]) -> None:
    """However the test ends (a timeout included), the demo and every server it started stop:
    SIGTERM lets it stop them; its process group is killed after that."""
    if demo.poll() is None:
        demo.terminate()
        with suppress(subprocess.TimeoutExpired):
            demo.wait(timeout=STOP_S)
    with suppress(ProcessLookupError):
        os.killpg(demo.pid, signal.SIGKILL)


def _timeline(workdir: Path) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = json.loads((workdir / "timeline.json").read_text())
    return events


def _alarm(event: dict[str, Any]) -> bool:
    """Whether `event` is the demo's alarm-raising monitor's (the other one explains)."""
    return bool(event["data"].get("monitor") == "drift")


def _loops(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The timeline cut after each loop's first `drift.resolved` of the alarm-raising monitor
    that follows a promotion."""
    loops, current, promoted = [], [], False
    for event in events:
        current.append(event)
        promoted = promoted or event["type"] == "rollout.promoted"
        if promoted and event["type"] == "drift.resolved" and _alarm(event):
            loops.append(current)
            current, promoted = [], False
    return [*loops, current] if current else loops


def _first(loop: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next(
        e
        for e in loop
        if e["type"] == kind and (_alarm(e) or not kind.startswith(("drift.", "monitor.")))
    )


def test_the_demo_shows_every_step_of_the_loop_in_order_twice(
    demo_run: tuple[Path, str],
) -> None:
    workdir, _ = demo_run
    loops = _loops(_timeline(workdir))
    assert len(loops) >= 2, [e["type"] for e in _timeline(workdir)]
    for loop in loops[:2]:
        kinds = [event["type"] for event in loop]
        firsts = [loop.index(_first(loop, kind)) for kind in LOOP]
        assert firsts == sorted(firsts), kinds
        assert kinds.count("rollout.step") >= 3, kinds  # 10 -> 25 -> 50 -> 100
        assert "rollout.rolled_back" not in kinds


def test_each_drift_is_judged_against_the_version_then_champion(
    demo_run: tuple[Path, str],
) -> None:
    workdir, _ = demo_run
    first, second = _loops(_timeline(workdir))[:2]
    detected = [_first(loop, "drift.detected") for loop in (first, second)]
    assert [e["data"]["model_version"] for e in detected] == ["1", "2"]
    passed = [_first(loop, "validation.passed") for loop in (first, second)]
    assert [e["data"]["model_version"] for e in passed] == ["2", "3"]
    rebaselined = [_first(loop, "monitor.rebaselined") for loop in (first, second)]
    assert [(e["data"]["old_version"], e["data"]["new_version"]) for e in rebaselined] == [
        ("1", "2"),
        ("2", "3"),
    ]


def test_a_rebaselined_monitor_raises_no_drift_ongoing(demo_run: tuple[Path, str]) -> None:
    """Its streaks restart: the next drift event of that monitor is a new detection, never an
    ongoing one carried over from the old baseline."""
    workdir, _ = demo_run
    events = _timeline(workdir)
    for index, event in enumerate(events):
        if event["type"] != "monitor.rebaselined":
            continue
        monitor = event["data"]["monitor"]
        later = [
            e["type"]
            for e in events[index + 1 :]
            if e["type"].startswith("drift.") and e["data"].get("monitor") == monitor
        ]
        until_detected = (
            later[: later.index("drift.detected")] if "drift.detected" in later else later
        )
        assert "drift.ongoing" not in until_detected, (monitor, later)


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
    assert str(aliases["previous"]) == "2"
    assert str(aliases["champion"]) == "3"
    assert "dashboard: http://127.0.0.1:" in output
