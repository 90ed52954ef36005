"""What the sidecar costs: the same model server called directly and through one `monitor
sidecar` process, in the same run, with a real `monitor serve` receiving the records.

    .venv/bin/python benchmarks/sidecar.py [--requests 2000] [--seconds 10] [--connections 32]

Two upstreams, each measured direct vs through the sidecar:

- `mlflow`: `mlflow models serve` of an iris logistic regression (the server users run). It
  spends milliseconds of pandas and schema checks per request, so with two cores it cannot
  itself answer 1,000 requests/s: it shows the added latency on a real scoring server.
- `minimal`: the same model's coefficients behind a bare aiohttp scoring endpoint (this file,
  `--serve-iris`), so that the upstream is not the bottleneck and the throughput measured is
  the sidecar's own.

Latency: sequential requests over one keep-alive connection, direct and through the sidecar
interleaved one by one, so both see the same machine load. Throughput: `--connections`
concurrent keep-alive clients for `--seconds`, with `wrk` when it is on PATH (it costs the
CPU least), else aiohttp. Targets: at most 2 ms added p50, at least 1,000 requests/s through
one sidecar. The machine's load average is printed before and after: on a shared machine,
read the ratios rather than the absolute figures.
"""

import argparse
import asyncio
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path[0] = str(Path(__file__).resolve().parent.parent)

import numpy as np  # noqa: E402

from tests.e2e.server import bearer, running_server  # noqa: E402
from tests.sidecar.processes import (  # noqa: E402
    IRIS,
    IRIS_FEATURES,
    Process,
    iris_model_payload,
    iris_rows,
    log_iris_model,
    model_server,
    start_process,
    start_sidecar,
)

TARGET_ADDED_P50_MS = 2.0
TARGET_REQUESTS_PER_S = 1000.0
BODY = json.dumps({"dataframe_split": {"columns": IRIS_FEATURES, "data": [iris_rows()[70]]}})


# --- the minimal upstream -----------------------------------------------------------------


def serve_iris(port: int, coefficients: Path) -> None:
    """A bare MLflow-protocol scoring endpoint: the logistic regression's softmax in numpy."""
    from aiohttp import web

    weights = json.loads(coefficients.read_text())
    coef, intercept = np.array(weights["coef"]), np.array(weights["intercept"])

    async def invocations(request: web.Request) -> web.Response:
        split = (await request.json())["dataframe_split"]
        scores = np.asarray(split["data"], dtype=float) @ coef.T + intercept
        exp = np.exp(scores - scores.max(axis=1, keepdims=True))
        probabilities = exp / exp.sum(axis=1, keepdims=True)
        return web.json_response({"predictions": probabilities.tolist()})

    async def ping(request: web.Request) -> web.Response:
        return web.Response(text="\n")

    app = web.Application()
    app.router.add_post("/invocations", invocations)
    app.router.add_get("/ping", ping)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


@contextmanager
def minimal_server(workdir: Path) -> Iterator[Process]:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    from tests.e2e.server import free_port

    data = load_iris()
    model = LogisticRegression(max_iter=500).fit(data.data, data.target)
    coefficients = workdir / "iris-coefficients.json"
    coefficients.write_text(
        json.dumps({"coef": model.coef_.tolist(), "intercept": model.intercept_.tolist()})
    )
    port = free_port()
    command = [sys.executable, __file__, "--serve-iris", str(port), str(coefficients)]
    url = f"http://127.0.0.1:{port}"
    server = start_process(command, {}, workdir / "minimal-server.log", url, "/ping")
    try:
        yield server
    finally:
        server.stop()


# --- measurements -------------------------------------------------------------------------


def _connection(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)


def _timed_post(connection: http.client.HTTPConnection) -> float:
    started = time.perf_counter()
    connection.request("POST", "/invocations", BODY, {"Content-Type": "application/json"})
    reply = connection.getresponse()
    reply.read()
    elapsed = (time.perf_counter() - started) * 1000.0
    if reply.status != 200:
        raise RuntimeError(f"benchmark request answered {reply.status}")
    return elapsed


def sequential_latency(direct: str, sidecar: str, requests: int) -> tuple[list[float], list[float]]:
    """Milliseconds per request, direct and through the sidecar, interleaved one by one."""
    to_model, to_sidecar = _connection(direct), _connection(sidecar)
    for _ in range(50):  # warm-up: connections, caches, the model server's first calls
        _timed_post(to_model)
        _timed_post(to_sidecar)
    direct_ms, sidecar_ms = [], []
    for _ in range(requests):
        direct_ms.append(_timed_post(to_model))
        sidecar_ms.append(_timed_post(to_sidecar))
    to_model.close()
    to_sidecar.close()
    return direct_ms, sidecar_ms


def throughput(url: str, seconds: int, connections: int) -> float:
    """Requests per second answered 200 by `url`/invocations under concurrent clients."""
    if shutil.which("wrk"):
        return _wrk(url, seconds, connections)
    return asyncio.run(_aiohttp_load(url, seconds, connections))


def _wrk(url: str, seconds: int, connections: int) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            'wrk.method = "POST"\n'
            f"wrk.body = {json.dumps(BODY)}\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
    try:
        output = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", script.name,
             f"{url}/invocations"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        Path(script.name).unlink()
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk saw failed requests:\n{output}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if match is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return float(match.group(1))


async def _aiohttp_load(url: str, seconds: int, connections: int) -> float:
    import aiohttp

    done = 0
    deadline = time.perf_counter() + seconds
    headers = {"Content-Type": "application/json"}

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            async with session.post(f"{url}/invocations", data=BODY, headers=headers) as reply:
                await reply.read()
                if reply.status != 200:
                    raise RuntimeError(f"benchmark request answered {reply.status}")
                done += 1

    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        await asyncio.gather(*(client(session) for _ in range(connections)))
    return done / (time.perf_counter() - started)


# --- the run ------------------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def measure(
    name: str, upstream: Process, sidecar: Process, args: argparse.Namespace
) -> dict[str, Any]:
    direct_ms, sidecar_ms = sequential_latency(upstream.url, sidecar.url, args.requests)
    direct_rps = throughput(upstream.url, args.seconds, args.connections)
    sidecar_rps = throughput(sidecar.url, args.seconds, args.connections)
    result = {
        "upstream": name,
        "direct_p50": _percentile(direct_ms, 50),
        "direct_p99": _percentile(direct_ms, 99),
        "sidecar_p50": _percentile(sidecar_ms, 50),
        "sidecar_p99": _percentile(sidecar_ms, 99),
        "added_p50": _percentile(sidecar_ms, 50) - _percentile(direct_ms, 50),
        "direct_rps": direct_rps,
        "sidecar_rps": sidecar_rps,
    }
    print(
        f"{name:8} p50 {result['direct_p50']:6.2f} -> {result['sidecar_p50']:6.2f} ms "
        f"(x{result['sidecar_p50'] / result['direct_p50']:.2f}), "
        f"p99 {result['direct_p99']:6.2f} -> {result['sidecar_p99']:6.2f} ms "
        f"(x{result['sidecar_p99'] / result['direct_p99']:.2f}), "
        f"added p50 {result['added_p50']:.2f} ms; "
        f"throughput {direct_rps:7.0f} -> {sidecar_rps:7.0f} req/s "
        f"(x{sidecar_rps / direct_rps:.2f})",
        flush=True,
    )
    return result


def _sidecar_for(
    upstream: Process, control_plane: str, key: str, workdir: Path, name: str
) -> Process:
    folder = workdir / f"sidecar-{name}"
    folder.mkdir()
    options = {
        "--model": IRIS,
        "--control-plane": control_plane,
        "--api-key": key,
        "--upstream": upstream.url,
        "--spool-dir": str(folder / "spool"),
    }
    return start_sidecar(folder, options)


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="sequential requests")
    parser.add_argument("--seconds", type=int, default=10, help="each throughput run")
    parser.add_argument("--connections", type=int, default=32, help="concurrent clients")
    parser.add_argument("--upstream", choices=["mlflow", "minimal", "both"], default="both")
    parser.add_argument("--mlflow-workers", type=int, default=2)
    parser.add_argument("--serve-iris", nargs=2, metavar=("PORT", "COEFFICIENTS"))
    args = parser.parse_args()
    if args.serve_iris:
        serve_iris(int(args.serve_iris[0]), Path(args.serve_iris[1]))
        return
    print(f"before: {_load()}; load generator: {'wrk' if shutil.which('wrk') else 'aiohttp'}")
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        with running_server(workdir) as control_plane:
            admin = bearer(control_plane.create_key("admin"))
            key = control_plane.create_key("ingest")
            import httpx

            httpx.post(
                f"{control_plane.base_url}/api/v1/models", json=iris_model_payload(), headers=admin
            ).raise_for_status()
            if args.upstream in ("minimal", "both"):
                with minimal_server(workdir) as upstream:
                    sidecar = _sidecar_for(upstream, control_plane.base_url, key, workdir, "min")
                    try:
                        results.append(measure("minimal", upstream, sidecar, args))
                    finally:
                        sidecar.stop()
            if args.upstream in ("mlflow", "both"):
                tracking = f"sqlite:///{workdir / 'mlflow.db'}"
                uri = log_iris_model(tracking, workdir / "artifacts")
                with model_server(uri, tracking, workdir, args.mlflow_workers) as upstream:
                    sidecar = _sidecar_for(upstream, control_plane.base_url, key, workdir, "mlf")
                    try:
                        results.append(measure("mlflow", upstream, sidecar, args))
                    finally:
                        sidecar.stop()
            stored = httpx.get(
                f"{control_plane.base_url}/api/v1/models/{IRIS}/inferences",
                params={"limit": 1},
                headers=admin,
            ).status_code
    print(f"after: {_load()}; control plane read back: {stored}")
    for result in results:
        added_ok = result["added_p50"] <= TARGET_ADDED_P50_MS
        print(
            f"{result['upstream']}: added p50 {result['added_p50']:.2f} ms "
            f"(target <= {TARGET_ADDED_P50_MS}: {'met' if added_ok else 'NOT met'})"
        )
    minimal = next((r for r in results if r["upstream"] == "minimal"), None)
    if minimal is not None:
        rps_ok = minimal["sidecar_rps"] >= TARGET_REQUESTS_PER_S
        print(
            f"throughput through one sidecar {minimal['sidecar_rps']:.0f} req/s "
            f"(target >= {TARGET_REQUESTS_PER_S:.0f}: {'met' if rps_ok else 'NOT met'})"
        )


if __name__ == "__main__":
    main()
