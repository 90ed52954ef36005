"""A cap on every request body, enforced on the raw ASGI stream before any route parses it.

FastAPI reads a JSON body before the key is checked, so without this an anonymous caller could
make the server hold a body of any size. Each route class has its own cap: ingestion (batches of
records), reference uploads (data sets) and everything else (configuration, a few KiB).
"""

import re
from dataclasses import dataclass
from enum import StrEnum

import orjson
from starlette.types import Message, Receive, Scope, Send

from monitor.api.middleware import HttpMiddleware
from monitor.settings import Settings

_INGEST = re.compile(
    r"^/api/v1/models/[^/]+/(inferences|labels)/?$|^/api/v1/(models/[^/]+/)?kserve/events/?$"
)
_UPLOAD = re.compile(r"^/api/v1/models/[^/]+/reference/?$")


class RouteClass(StrEnum):
    INGEST = "ingest"
    UPLOAD = "upload"
    OTHER = "other"


@dataclass(frozen=True)
class BodyLimit:
    route_class: RouteClass
    limit: int
    setting: str


def body_limit(path: str, settings: Settings) -> BodyLimit:
    """The cap that applies to a request for `path`, and the setting that raises it."""
    if _INGEST.match(path):
        return BodyLimit(RouteClass.INGEST, settings.max_request_bytes, "MONITOR_MAX_REQUEST_BYTES")
    if _UPLOAD.match(path):
        return BodyLimit(
            RouteClass.UPLOAD, settings.max_reference_bytes, "MONITOR_MAX_REFERENCE_BYTES"
        )
    return BodyLimit(
        RouteClass.OTHER, settings.max_other_request_bytes, "MONITOR_MAX_OTHER_REQUEST_BYTES"
    )


class _BodyTooLarge(Exception):
    """Raised into the route from `receive` once the stream passes the cap."""


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit():
            return int(value)
    return None


def _refusal(limit: BodyLimit, size: int | None) -> bytes:
    what = f"the body is {size} bytes" if size is not None else "the body is larger"
    detail = (
        f"{what}; the limit for {limit.route_class} requests is {limit.limit} bytes "
        f"(send less, or raise {limit.setting})"
    )
    return orjson.dumps({"detail": detail})


async def _send_413(send: Send, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestSizeLimit(HttpMiddleware):
    """Refuses a declared `Content-Length` over the cap without reading a byte, and cuts off a
    streamed (chunked) body as soon as it passes the cap; either way the answer is 413."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        settings: Settings = scope["app"].state.settings
        limit = body_limit(scope["path"], settings)
        declared = _declared_length(scope)
        if declared is not None and declared > limit.limit:
            await _send_413(send, _refusal(limit, declared))
            return
        received = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit.limit:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # whatever the route made of the cut-off body; the 413 below replaces it
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _BodyTooLarge:
            pass
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await _send_413(send, _refusal(limit, None))
