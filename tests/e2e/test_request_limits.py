"""Anonymous huge bodies against a real `monitor serve`: refused before they are held in memory."""

import select
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import MonitorServer, running_server

TWO_GIB = 2 * 1024**3
CHUNK = b"x" * (1024 * 1024)
RSS_GROWTH_LIMIT = 50 * 1024 * 1024
ROUTES = [
    "POST /api/v1/models",
    "POST /api/v1/channels",
    "PUT /api/v1/models/churn/pipeline",
    "POST /api/v1/models/churn/inferences",
    "POST /api/v1/models/churn/reference",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MonitorServer]:
    with running_server(tmp_path_factory.mktemp("limits-workdir")) as running:
        yield running


def _memory(pid: int, field: str) -> int:
    """VmRSS or VmHWM (peak) of a process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"{field} missing from /proc/{pid}/status")


def _send_two_gib(port: int, route: str, *, chunked: bool) -> int:
    """Send a 2 GiB body with no key until the server answers; return the answer's status."""
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {TWO_GIB}"
    head = (
        f"{route} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"{framing}\r\n\r\n"
    )
    piece = f"{len(CHUNK):x}\r\n".encode() + CHUNK + b"\r\n" if chunked else CHUNK
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(head.encode())
        for _ in range(TWO_GIB // len(CHUNK)):
            readable, _, _ = select.select([connection], [], [], 0)
            if readable:
                break
            try:
                connection.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
        status_line = connection.recv(4096).split(b"\r\n", 1)[0]
    return int(status_line.split()[1])


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("route", ROUTES)
def test_anonymous_two_gib_body_is_refused_while_server_memory_stays_flat(
    server: MonitorServer, route: str, chunked: bool
) -> None:
    # Reset the peak (VmHWM) to the current RSS, so the peak read after is this request's alone
    # and not the start-up's.
    Path(f"/proc/{server.pid}/clear_refs").write_text("5")
    before = _memory(server.pid, "VmRSS")
    status = _send_two_gib(server.port, route, chunked=chunked)
    growth = _memory(server.pid, "VmHWM") - before
    assert status in (401, 413)
    assert growth < RSS_GROWTH_LIMIT, f"the server grew by {growth / 2**20:.0f} MiB"
