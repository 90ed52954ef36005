"""The demo's script: stand the system up, send traffic, inject drift, and follow the loop
(alert, retraining, gate, canary, promotion, re-baseline) until the new model is the champion
and its monitor is quiet again; with several loops, drift again and heal again."""

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
from monitor.demo.configuration import KEY_SCOPES, MONITORS, PIPELINE, channel, endpoint
from monitor.demo.data import DRIFTS, MODEL, TrafficSource, cancer_frame, model_payload
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
    loops: int = 1


@dataclass(frozen=True)
class DemoOutcome:
    dashboard_url: str
    champion_before: str
    champion_after: str
    events: list[str]
    alerts: list[str]
    champions: list[str]  # the champion after each loop


def run_demo(options: DemoOptions, echo: Callable[[str], None]) -> DemoOutcome:
    pace = FAST if options.fast else NORMAL
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns the story
    workdir = _fresh_workdir(options.workdir)
    # A terminated demo (`kill`, a CI timeout) unwinds like Ctrl-C: what it started stops too.
    signal.signal(signal.SIGTERM, _exit_on_terminate)
    with ExitStack() as stack:
        demo = _Demo(workdir, pace, echo, stack)
        outcome = demo.run(options.port, loops=options.loops, keep_traffic=options.keep_running)
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
        self.loop_started = self.started  # each loop's time limit counts from its start

    def run(self, port: int, *, loops: int, keep_traffic: bool) -> DemoOutcome:
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
        _ok(api.post(f"/api/v1/models/{MODEL}/endpoints", json=endpoint(first, stable)))
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
        champions = []
        for loop in range(loops):
            features, scale = DRIFTS[loop % len(DRIFTS)]
            if loop:
                self.loop_started = time.monotonic()
            source.drifts = loop + 1
            timeline.note(f"drift injected: {', '.join(features)} now read x{scale:g}")
            champions.append(self._heal(api, timeline, traffic, since=len(timeline.events)))
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
            champions=champions,
        )
        (self.workdir / "timeline.json").write_text(json.dumps(timeline.events, indent=2))
        self.echo(f"done in {time.monotonic() - timeline.started:.0f} s")
        self.echo(f"dashboard: {outcome.dashboard_url}")
        return outcome

    def _heal(self, api: httpx.Client, timeline: Timeline, traffic: Traffic, *, since: int) -> str:
        """Follow one loop from the events after `since`: the alert, the retraining and its
        gate, the canary the demo starts for the candidate, its promotion, and the monitor
        re-baselined on the new champion. Returns the new champion's version."""
        detected = self._wait_for(timeline, "drift.detected", fails=(), after=since)
        timeline.note(f"v{detected['data'].get('model_version')} drifted; retraining follows")
        passed = self._wait_for(
            timeline, "validation.passed", fails=("validation.failed",), after=since
        )
        version = str(passed["data"].get("model_version") or passed["data"].get("version"))
        candidate = self._serve_version(version)
        self.stack.callback(traffic.stop)  # at the end, callers stop before their servers do
        _ok(api.post(f"/api/v1/models/{MODEL}/endpoints", json=endpoint(version, candidate)))
        rollout = _ok(api.post(f"/api/v1/models/{MODEL}/rollouts", json=self._rollout(version)))
        timeline.note(f"canary of v{version} started (rollout {rollout['id']})")
        resumed: set[str] = set()

        def on_call_engineer() -> None:
            """A step that ends with too few requests pauses for a human; here the demo is
            that human, and it lets the step bake again."""
            for event in timeline.events[since:]:
                if event["type"] == "rollout.paused" and event["id"] not in resumed:
                    resumed.add(event["id"])
                    _ok(api.post(f"/api/v1/models/{MODEL}/rollouts/{rollout['id']}/resume"))
                    timeline.note("the demo resumes the rollout (the step needs more requests)")

        promoted = self._wait_for(
            timeline,
            "rollout.promoted",
            fails=("rollout.rolled_back",),
            act=on_call_engineer,
            after=since,
        )
        # The alarm-raising monitor moves to the new champion's baseline, which closes the alert.
        rebaselined = self._wait_for(
            timeline,
            "monitor.rebaselined",
            fails=(),
            after=timeline.events.index(promoted),
            where=lambda e: (
                e["data"].get("monitor") == "drift" and e["data"].get("new_version") == version
            ),
        )
        self._wait_for(
            timeline,
            "drift.resolved",
            fails=(),
            after=timeline.events.index(rebaselined),
            where=lambda e: e["data"].get("monitor") == "drift",
        )
        timeline.note(
            f"monitors now judge v{rebaselined['data'].get('new_version')} against reference "
            f"{rebaselined['data'].get('reference_id')}: the model is ok again"
        )
        return version

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
                data={"model_version": version},
            )
        )
        _ok(api.post("/api/v1/channels", json=channel(receiver)))
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
            "steps": [10, 25, 50, 100],
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
        after: int = 0,
        where: Callable[[dict[str, Any]], bool] = lambda _: True,
    ) -> dict[str, Any]:
        """The first `event_type` that `where` accepts among the events after the first
        `after`; each loop has `limit_seconds` from the moment it begins."""
        begun = time.monotonic()

        def check() -> dict[str, Any] | None:
            act()
            for failure in fails:
                if (bad := timeline.happened(failure, after=after)) is not None:
                    raise DemoError(f"the loop stopped at {failure}: {bad.get('data')}")
            return timeline.happened(event_type, after=after, where=where)

        limit = self.pace.limit_seconds
        found = self._wait(timeline, check, limit - (begun - self.loop_started))
        if found is None:
            raise DemoError(f"no {event_type} within {limit:.0f} s of the loop's start")
        event: dict[str, Any] = found
        return event


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


def _exit_on_terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _wait_for_a_stop_signal() -> None:
    """Block until SIGINT or SIGTERM (a background job ignores SIGINT, so both are handled)."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass
