"""The demo's script: stand the system up, send traffic, inject drift, and follow the loop
(alert, retraining, gate, canary, promotion) until the new model is the champion."""

import json
import logging
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from mlflow import MlflowClient

from monitor.demo import champion
from monitor.demo.champion import DemoError
from monitor.demo.data import DRIFTED, MODEL, TrafficSource, cancer_frame, model_payload
from monitor.demo.receiver import WebhookReceiver
from monitor.demo.timeline import Timeline
from monitor.demo.traffic import Traffic
from monitor.deployers.mlflow_local import MlflowModelServer
from monitor.deployers.process import (
    ServiceProcess,
    environment_without_settings,
    free_port,
    port_free,
)

MARKER = ".monitor-demo"
POLL_S = 0.5


@dataclass(frozen=True)
class Pace:
    """How long each act lasts; `fast` is for the test suite."""

    clean_seconds: float
    bake_seconds: int
    requests_per_second: float
    limit_seconds: float


NORMAL = Pace(clean_seconds=20, bake_seconds=8, requests_per_second=50, limit_seconds=180)
FAST = Pace(clean_seconds=10, bake_seconds=6, requests_per_second=50, limit_seconds=240)


@dataclass(frozen=True)
class DemoOptions:
    workdir: Path
    port: int
    fast: bool = False
    keep_running: bool = False


@dataclass(frozen=True)
class DemoOutcome:
    dashboard_url: str
    champion_before: str
    champion_after: str
    events: list[str]
    alerts: list[str]


def run_demo(options: DemoOptions, echo: Callable[[str], None]) -> DemoOutcome:
    pace = FAST if options.fast else NORMAL
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns the story
    workdir = _fresh_workdir(options.workdir)
    with ExitStack() as stack:
        demo = _Demo(workdir, pace, echo, stack)
        outcome = demo.run(options.port, keep_traffic=options.keep_running)
        if options.keep_running:
            echo("everything stays up, traffic included; Ctrl-C (or SIGTERM) stops it all")
            _wait_for_a_stop_signal()
        return outcome


class _Demo:
    def __init__(
        self, workdir: Path, pace: Pace, echo: Callable[[str], None], stack: ExitStack
    ) -> None:
        self.workdir = workdir
        self.pace = pace
        self.echo = echo
        self.stack = stack
        self.tracking_uri = f"sqlite:///{workdir / 'mlflow.db'}"
        self.frame = cancer_frame()
        self.started = time.monotonic()

    def run(self, port: int, *, keep_traffic: bool) -> DemoOutcome:
        self.echo(f"demo folder: {self.workdir}")
        receiver = WebhookReceiver()
        receiver.start()
        self.stack.callback(receiver.stop)
        self.echo("training the champion on scikit-learn's breast-cancer data ...")
        first = champion.train_champion(self.frame, self.tracking_uri, self.workdir / "artifacts")
        base_url, keys = self._start_control_plane(port)
        api = self.stack.enter_context(
            httpx.Client(base_url=base_url, headers=_bearer(keys["admin"]), timeout=30.0)
        )
        timeline = Timeline(api=api, receiver=receiver, echo=self.echo, started=self.started)
        timeline.note(f"champion: {MODEL} version {first} (@champion in MLflow)")
        self._configure(api, first, receiver)
        stable = self._serve_version(first)
        _ok(api.post(f"/api/v1/models/{MODEL}/endpoints", json=_endpoint(first, stable)))
        sidecar_url = self._start_sidecar(base_url, stable, keys["ingest"])
        timeline.note(f"serving {MODEL} v{first} behind the sidecar at {sidecar_url}")
        source = TrafficSource.from_frame(self.frame, seed=11)
        traffic = Traffic(
            source=source,
            sidecar_url=sidecar_url,
            control_plane_url=base_url,
            ingest_key=keys["ingest"],
            rate=self.pace.requests_per_second,
        )
        traffic.start()
        self.stack.callback(traffic.stop)
        timeline.note(f"traffic: {self.pace.requests_per_second:.0f} requests/s, labels follow")
        self._wait(timeline, lambda: None, self.pace.clean_seconds)
        source.drifted = True
        timeline.note(f"drift injected: {', '.join(DRIFTED)} now read x1.6")
        passed = self._wait_for(timeline, "validation.passed", fails=("validation.failed",))
        second = str(passed["data"].get("model_version") or passed["data"].get("version"))
        candidate = self._serve_version(second)
        self.stack.callback(traffic.stop)  # at the end, callers stop before their servers do
        _ok(api.post(f"/api/v1/models/{MODEL}/endpoints", json=_endpoint(second, candidate)))
        rollout = _ok(api.post(f"/api/v1/models/{MODEL}/rollouts", json=self._rollout(second)))
        timeline.note(f"canary of v{second} started (rollout {rollout['id']})")
        resumed: set[str] = set()

        def on_call_engineer() -> None:
            """A step that ends with too few requests pauses for a human; here the demo is
            that human, and it lets the step bake again."""
            for event in timeline.events:
                if event["type"] == "rollout.paused" and event["id"] not in resumed:
                    resumed.add(event["id"])
                    _ok(api.post(f"/api/v1/models/{MODEL}/rollouts/{rollout['id']}/resume"))
                    timeline.note("the demo resumes the rollout (the step needs more requests)")

        self._wait_for(
            timeline, "rollout.promoted", fails=("rollout.rolled_back",), act=on_call_engineer
        )
        if not keep_traffic:  # the scoring servers stop next; callers would only see 502s
            traffic.stop()
        aliases = _aliases(self.tracking_uri)
        timeline.note(f"MLflow aliases now: {aliases}")
        served = dict(traffic.stats.served)
        timeline.note(f"traffic served by variant: {served}, failed: {traffic.stats.failed}")
        outcome = DemoOutcome(
            dashboard_url=f"{base_url}/dashboard/",
            champion_before=first,
            champion_after=aliases.get("champion", ""),
            events=[event["type"] for event in timeline.events],
            alerts=timeline.alerts,
        )
        (self.workdir / "timeline.json").write_text(json.dumps(timeline.events, indent=2))
        self.echo(f"done in {time.monotonic() - timeline.started:.0f} s")
        self.echo(f"dashboard: {outcome.dashboard_url}")
        return outcome

    def _monitor_command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "monitor", *args]

    def _start_control_plane(self, port: int) -> tuple[str, dict[str, str]]:
        port = port if port_free(port) else free_port()
        base_url = f"http://127.0.0.1:{port}"
        settings = {
            "MONITOR_DATA_DIR": str(self.workdir / "data"),
            "MONITOR_MLFLOW_TRACKING_URI": self.tracking_uri,
            "MONITOR_MLFLOW_ARTIFACT_ROOT": str(self.workdir / "artifacts"),
            "MONITOR_PUBLIC_URL": base_url,
            "MONITOR_DASHBOARD_URL": f"{base_url}/dashboard",
            "MONITOR_SCHEDULER_POLL_SECONDS": "0.5",
            "MONITOR_SCHEDULER_SYNC_SECONDS": "0.5",
            "MONITOR_RETRAINING_POLL_SECONDS": "0.5",
            "MONITOR_DELIVERY_POLL_SECONDS": "0.5",
            "MONITOR_ROLLOUT_TICK_SECONDS": "1",
            "MONITOR_EGRESS_ALLOW_PRIVATE": "true",  # its alert receiver is on this machine
        }
        env = environment_without_settings(settings)
        keys = {scope: _create_key(self._monitor_command, scope, env) for scope in KEY_SCOPES}
        self.echo(f"read key, to sign in to the dashboard: {keys['read']}")
        server = ServiceProcess(
            "the control plane",
            self._monitor_command("serve", "--port", str(port)),
            env=env,
            log_path=self.workdir / "monitor-serve.log",
        )
        self.stack.callback(server.stop)
        server.start(f"{base_url}/readyz")
        return base_url, keys

    def _configure(self, api: httpx.Client, version: str, receiver: WebhookReceiver) -> None:
        _ok(api.post("/api/v1/models", json=model_payload(self.frame)))
        reference = champion.reference_frame(self.frame, self.tracking_uri, version)
        upload = reference.to_csv(index=False).encode()
        _ok(
            api.post(
                f"/api/v1/models/{MODEL}/reference",
                files={"file": ("reference.csv", upload, "text/csv")},
            )
        )
        _ok(api.post("/api/v1/channels", json=_channel(receiver)))
        for monitor in MONITORS:
            _ok(api.post(f"/api/v1/models/{MODEL}/monitors", json=monitor))
        pipeline = {**PIPELINE, "working_dir": str(champion.repository_root())}
        _ok(api.put(f"/api/v1/models/{MODEL}/pipeline", json=pipeline))

    def _serve_version(self, version: str) -> str:
        server = MlflowModelServer(
            MODEL,
            version,
            tracking_uri=self.tracking_uri,
            log_path=self.workdir / f"model-v{version}.log",
        )
        self.stack.callback(server.stop)
        return server.start()

    def _start_sidecar(self, control_plane: str, upstream: str, ingest_key: str) -> str:
        port = free_port()
        sidecar = ServiceProcess(
            "the sidecar",
            self._monitor_command(
                *("sidecar", "--model", MODEL, "--control-plane", control_plane),
                *("--upstream", upstream, "--port", str(port)),
                *("--spool-dir", str(self.workdir / "sidecar-spool")),
                *("--routing-poll-seconds", "0.5"),
            ),
            env=environment_without_settings({"MONITOR_SIDECAR_API_KEY": ingest_key}),
            log_path=self.workdir / "sidecar.log",
        )
        self.stack.callback(sidecar.stop)
        url = f"http://127.0.0.1:{port}"
        sidecar.start(f"{url}/sidecar/status")
        return url

    def _rollout(self, version: str) -> dict[str, Any]:
        return {
            "candidate_endpoint": f"{MODEL}-v{version}",
            "candidate_version": version,
            "steps": [5, 25, 50, 100],
            "bake_seconds": self.pace.bake_seconds,
            "min_requests": 5,
            # The retrained model is meant to score the drifted traffic differently from the
            # old one, so a shift in its outputs fails only when it is extreme; and both scoring
            # servers share two cores with everything else here, so their p99s differ by noise
            # alone (x1.7 seen between identical servers). Errors and accuracy judge it.
            "thresholds": {"max_prediction_psi": 1.0, "max_p99_latency_ratio": 5.0},
        }

    def _wait(self, timeline: Timeline, check: Callable[[], Any], seconds: float) -> Any:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            timeline.poll()
            found = check()
            if found is not None:
                return found
            time.sleep(POLL_S)
        return None

    def _wait_for(
        self,
        timeline: Timeline,
        event_type: str,
        *,
        fails: tuple[str, ...],
        act: Callable[[], None] = lambda: None,
    ) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            act()
            for failure in fails:
                if (bad := timeline.happened(failure)) is not None:
                    raise DemoError(f"the loop stopped at {failure}: {bad.get('data')}")
            return timeline.happened(event_type)

        left = self.pace.limit_seconds - (time.monotonic() - timeline.started)
        found = self._wait(timeline, check, left)
        if found is None:
            raise DemoError(f"no {event_type} within {self.pace.limit_seconds:.0f} s")
        event: dict[str, Any] = found
        return event


KEY_SCOPES = ("admin", "ingest", "read")
# Drift is watched by a quick monitor; a slower one explains it (SHAP attributions of the
# champion, an Evidently report per run) for the dashboard, without delaying the alert.
MONITORS: list[dict[str, Any]] = [
    {
        "name": "drift",
        "schedule": {"every": "3s"},
        "window": {"last_records": 240},
        "min_rows": 120,
        "hysteresis": {"onset_after": 2, "resolve_after": 3},
    },
    {
        "name": "explain",
        "schedule": {"every": "20s"},
        "window": {"last_records": 240},
        "min_rows": 120,
        "hysteresis": {"onset_after": 1, "resolve_after": 3},
        "shap_sample_size": 120,
        "explain_model_uri": f"models:/{MODEL}@champion",
        "store_report": True,
        "quality": {"enabled": False},
    },
]
PIPELINE: dict[str, Any] = {
    "kind": "python",
    "entry_point": champion.PIPELINE,
    "timeout": "5m",
    "cooldown": "1h",
    "policy": {"event_types": ["drift.detected"], "min_severity": "warning"},
    "training_window": {"last_records": 600},
    "parameters": {"estimator": "linear"},
    "gate": {"holdout_fraction": 0.3, "min_holdout_rows": 30},
}


def _channel(receiver: WebhookReceiver) -> dict[str, Any]:
    return {
        "name": "on-call",
        "kind": "webhook",
        "filters": {"event_types": ["drift.detected", "rollout.promoted", "rollout.rolled_back"]},
        "grouping": {"group_wait_seconds": 0, "group_interval_seconds": 0},
        "secrets": {"url": receiver.url, "signing_secret": receiver.secret},
    }


def _endpoint(version: str, url: str) -> dict[str, Any]:
    return {
        "name": f"{MODEL}-v{version}",
        "url": url,
        "protocol": "mlflow",
        "accelerator": "cpu",
        "model_version": version,
    }


def _aliases(tracking_uri: str) -> dict[str, str]:
    client = MlflowClient(tracking_uri, registry_uri=tracking_uri)
    registered = client.get_registered_model(MODEL)
    return {alias: str(version) for alias, version in sorted(registered.aliases.items())}


def _create_key(command: Callable[..., list[str]], scope: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        command("keys", "create", "--scope", scope, "--name", f"demo-{scope}"),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise DemoError(f"monitor keys create failed:\n{done.stderr[-2000:]}")
    return done.stdout.strip().splitlines()[-1]


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _ok(answer: httpx.Response) -> dict[str, Any]:
    if answer.status_code >= 400:
        raise DemoError(f"{answer.request.method} {answer.request.url.path}: {answer.text}")
    body: dict[str, Any] = answer.json() if answer.content else {}
    return body


def _fresh_workdir(path: Path) -> Path:
    """The demo's own folder, emptied of an earlier demo; a folder it did not make is refused."""
    path = path.resolve()
    if path.exists() and any(path.iterdir()):
        if not (path / MARKER).exists():
            raise DemoError(f"{path} is not empty and not a demo folder; choose --workdir")
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / MARKER).write_text("made by `monitor demo`; removed by the next demo run\n")
    return path


def _wait_for_a_stop_signal() -> None:
    """Block until SIGINT or SIGTERM (a background job ignores SIGINT, so both are handled)."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass
