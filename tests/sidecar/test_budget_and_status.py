"""What a sidecar holds, shows and passes on: pending bodies within a byte budget while the
control plane hangs, its status only to whoever holds the status key, and to candidate servers
only the allow-listed headers."""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import orjson

from monitor.deployers.process import free_port
from monitor.sidecar.app import allowed_headers
from monitor.sidecar.capture import Exchange, ModelShape, Protocol
from monitor.sidecar.control_plane import ControlPlane
from monitor.sidecar.settings import SidecarSettings
from monitor.sidecar.shipper import Shipper
from monitor.sidecar.spool import Spool
from tests.sidecar.processes import start_sidecar

IRIS = ModelShape(("sl", "sw", "pl", "pw"), ("setosa", "versicolor", "virginica"), False)
BUDGET = 5_000


def _exchange(index: int) -> Exchange:
    rows = [[5.1, 3.5, 1.4, 0.2]] * 10
    return Exchange(
        protocol=Protocol.MLFLOW,
        request_id=f"r{index}",
        time=1_795_000_000.0,
        variant="stable",
        model_version="3",
        latency_ms=4.5,
        status_code=200,
        request_body=orjson.dumps({"inputs": rows}),
        response_body=orjson.dumps({"predictions": [[0.9, 0.1, 0.0]] * 10}),
    )


async def _serve_while_control_plane_hangs(spool_dir: Path) -> tuple[int, int]:
    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(3600)

    hanging = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = hanging.sockets[0].getsockname()[1]
    control_plane = ControlPlane(f"http://127.0.0.1:{port}", "iris", "mon_key")
    spool = Spool(spool_dir, 64 * 1024 * 1024)
    shipper = Shipper(
        control_plane,
        spool,
        schema=IRIS,
        flush_records=500,
        flush_seconds=60,
        max_pending_bytes=BUDGET,
    )
    most_pending = 0
    for index in range(200):
        shipper.add(_exchange(index))
        most_pending = max(most_pending, shipper.pending_bytes)
    for _ in range(100):
        if len(spool):
            break
        await asyncio.sleep(0.05)
    await control_plane.close()
    hanging.close()
    return most_pending, len(spool)


def test_pending_bodies_past_the_byte_budget_go_to_the_spool(tmp_path: Path) -> None:
    # A thread of its own: Playwright's sync API (the dashboard tests, earlier in the session)
    # leaves an event loop running in the main thread, where asyncio.run is refused.
    with ThreadPoolExecutor(max_workers=1) as thread:
        run = thread.submit(asyncio.run, _serve_while_control_plane_hangs(tmp_path))
        most_pending, spooled = run.result()
    assert most_pending <= BUDGET
    assert spooled > 0


def test_status_needs_the_status_key_when_one_is_set(tmp_path: Path) -> None:
    sidecar = start_sidecar(
        tmp_path,
        {
            "--model": "iris",
            "--control-plane": f"http://127.0.0.1:{free_port()}",
            "--api-key": "mon_unused_key",
            "--upstream": f"http://127.0.0.1:{free_port()}",
            "--spool-dir": str(tmp_path / "spool"),
            "--status-key": "status-secret-1234",
        },
    )
    try:
        anonymous = httpx.get(f"{sidecar.url}/sidecar/status", timeout=10)
        keyed = httpx.get(
            f"{sidecar.url}/sidecar/status",
            headers={"Authorization": "Bearer status-secret-1234"},
            timeout=10,
        )
    finally:
        sidecar.stop()
    assert anonymous.status_code == 401
    assert "url" not in anonymous.text
    assert keyed.status_code == 200


def test_candidates_get_only_allow_listed_headers_never_credentials() -> None:
    settings = SidecarSettings(model="iris", api_key="k", upstream="http://127.0.0.1:9")
    allowed = frozenset(settings.candidate_headers.split(","))
    sent = {
        "Content-Type": "application/json",
        "traceparent": "00-abc-def-01",
        "Authorization": "Bearer user-token",
        "Cookie": "session=abc",
    }
    assert allowed_headers(sent, allowed) == {
        "Content-Type": "application/json",
        "traceparent": "00-abc-def-01",
    }
