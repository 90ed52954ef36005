"""The demo's on-call endpoint: a local webhook receiver standing in for Slack or PagerDuty. It
checks each delivery's Standard Webhooks signature and drops redeliveries by `webhook-id`."""

import hmac
import json
import queue
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from triggers.notifications.webhook import new_secret, signature


@dataclass(frozen=True)
class Delivery:
    event_id: str
    event_type: str
    signature_ok: bool


class WebhookReceiver:
    """Listens on a free loopback port; what arrives is put on `deliveries`."""

    def __init__(self) -> None:
        self.secret = new_secret()
        self.deliveries: queue.Queue[Delivery] = queue.Queue()
        self._seen: set[str] = set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/alerts"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _accept(self, headers: Any, body: bytes) -> None:
        event_id = headers.get("webhook-id", "")
        try:
            expected = signature(
                self.secret,
                msg_id=event_id,
                timestamp=int(headers.get("webhook-timestamp", "0")),
                body=body,
            )
        except ValueError:
            expected = ""
        signed = any(
            hmac.compare_digest(expected, candidate)
            for candidate in headers.get("webhook-signature", "").split()
        )
        if event_id in self._seen:
            return
        self._seen.add(event_id)
        envelope = json.loads(body or b"{}")
        self.deliveries.put(Delivery(event_id, str(envelope.get("type")), signed))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver._accept(self.headers, body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
