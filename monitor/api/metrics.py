"""Prometheus metrics of the API: requests, latencies, records ingested, rejected, duplicated.

Each app owns its registry, so several apps in one process (tests) do not collide.
"""

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "monitor_http_requests_total",
            "HTTP requests by route template, method and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "monitor_http_request_duration_seconds",
            "HTTP request latency by route template and method.",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.records_ingested = Counter(
            "monitor_records_ingested_total",
            "Inference records stored.",
            ["model"],
            registry=self.registry,
        )
        self.records_duplicate = Counter(
            "monitor_records_duplicate_total",
            "Inference records skipped because their request_id was already stored.",
            ["model"],
            registry=self.registry,
        )
        self.records_rejected = Counter(
            "monitor_records_rejected_total",
            "Inference records in batches refused for breaking the model's schema.",
            ["model"],
            registry=self.registry,
        )
        self.labels_ingested = Counter(
            "monitor_labels_ingested_total",
            "Ground-truth labels stored or corrected.",
            ["model"],
            registry=self.registry,
        )


class MetricsMiddleware:
    """Times every HTTP request and counts it under its route template (not its raw path)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - started)
