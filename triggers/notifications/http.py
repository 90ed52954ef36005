"""The one place notifications touch the network: a POST with a timeout, no redirects, and no
secret in any error message or log line (httpx's own request log names the URL, which may be a
secret, so it is silenced while a notification is sent)."""

import contextvars
import logging
import time
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import httpx

from triggers.egress import EgressTransport, answer_summary
from triggers.notifications.envelope import OutboundRequest

REDACTED = "[redacted]"

_sending = contextvars.ContextVar("notification_sending", default=False)


class _SilentWhileSending(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not _sending.get()


_SILENCER = _SilentWhileSending()


@dataclass(frozen=True, slots=True)
class HttpResult:
    status_code: int | None  # None: no answer (timeout, refused, reset)
    latency_ms: float
    error: str | None  # what went wrong, secrets removed; None on a 2xx
    retry_after: str | None  # the raw `Retry-After` header, where one came


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with every secret, and the path and query of every secret URL, blotted out."""
    pieces: list[str] = []
    for secret in secrets:
        pieces.append(secret)
        parts = urlsplit(secret)
        if parts.scheme and parts.netloc:
            pieces += [p for p in (parts.path, parts.query) if len(p) > 1]
    for piece in sorted(pieces, key=len, reverse=True):
        if piece:
            text = text.replace(piece, REDACTED)
    return text


@lru_cache(maxsize=4)
def client_for(timeout_seconds: float, *, allow_private: bool) -> httpx.Client:
    """The process's client for notification sends (thread-safe, keeps connections alive, so
    a burst to Slack does not pay a TLS handshake a message); never closed by callers.
    `allow_private`: the egress policy lets it reach non-public addresses."""
    httpx_log = logging.getLogger("httpx")
    if _SILENCER not in httpx_log.filters:
        httpx_log.addFilter(_SILENCER)
    return httpx.Client(
        timeout=httpx.Timeout(timeout_seconds),
        follow_redirects=False,
        transport=EgressTransport(allow_private=allow_private),
    )


def post(request: OutboundRequest, client: httpx.Client) -> HttpResult:
    """Send `request`; every outcome, even a refused connection, comes back as a result."""
    token = _sending.set(True)
    started = time.perf_counter()
    try:
        response = client.post(request.url, content=request.body, headers=dict(request.headers))
    except httpx.TimeoutException as error:
        return _no_answer(started, f"timed out ({type(error).__name__})")
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        return _no_answer(started, redact(f"{type(error).__name__}: {error}", request.secrets))
    finally:
        _sending.reset(token)
    latency = (time.perf_counter() - started) * 1000
    problem = None if 200 <= response.status_code < 300 else answer_summary(response)
    return HttpResult(response.status_code, latency, problem, response.headers.get("retry-after"))


def _no_answer(started: float, error: str) -> HttpResult:
    return HttpResult(None, (time.perf_counter() - started) * 1000, error, None)
