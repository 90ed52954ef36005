"""Response headers that keep browsers safe from what the API serves: no content sniffing on any
answer, and reports (HTML built from production data, category strings included) sandboxed."""

import re

from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from monitor.api.middleware import HttpMiddleware

# Evidently reports, from the API and through the dashboard's proxy.
_REPORT = re.compile(r"^(/api/v1/models/[^/]+/runs/[^/]+/report|/dashboard/reports/.+)$")
# The report draws itself with its own scripts; the sandbox runs them in an opaque origin, with
# no access to the dashboard's cookies or storage, and no way to navigate the top window.
REPORT_POLICY = "sandbox allow-scripts"


class SecurityHeaders(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        report = _REPORT.match(scope["path"]) is not None

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                if report:
                    headers["Content-Security-Policy"] = REPORT_POLICY
            await send(message)

        await self.app(scope, receive, with_headers)
