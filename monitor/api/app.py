"""The FastAPI application. Engine, metrics and caches are made in the lifespan, not at import."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from a2wsgi import WSGIMiddleware
from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool

from dashboard.app import create_dashboard
from monitor.api.deps import KeyCache
from monitor.api.errors import install_error_handlers
from monitor.api.headers import SecurityHeaders
from monitor.api.limits import RequestSizeLimit
from monitor.api.links import publish_links
from monitor.api.metrics import ApiMetrics, MetricsMiddleware
from monitor.api.responses import API_ERRORS, DATABASE_UNAVAILABLE
from monitor.api.routes import (
    channels,
    distributions,
    drift_matrix,
    endpoints,
    events,
    health,
    integrations,
    keys,
    kserve,
    models,
    monitors,
    overview,
    quality,
    references,
    retraining,
    rollouts,
    runs,
    sidecar,
    versions,
)
from monitor.api.text import refuse_unstorable_text
from monitor.integrations.store_metrics import StoreCollector
from monitor.scheduling.scheduler import start_in_background
from monitor.security.crypto import cipher_for, process_cipher
from monitor.settings import Settings, get_settings
from monitor.store.engine import make_engine, open_pool
from monitor.store.migrations import upgrade_to_head

DESCRIPTION = """
Watches models in production and heals them. Serving sidecars post inference records and
labels here and poll the traffic split; engineers configure models and read results.

Every call needs `Authorization: Bearer <api key>`; create keys with
`monitor keys create --scope ingest|read|admin`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    metrics = ApiMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resolved = settings or get_settings()
        resolved.data_dir.mkdir(parents=True, exist_ok=True)
        process_cipher()  # a malformed MONITOR_SECRET_KEYS stops the start, not a later read
        if resolved.migrate_on_start:
            await run_in_threadpool(upgrade_to_head, resolved.resolved_database_url)
        app.state.settings = resolved
        app.state.engine = make_engine(resolved.resolved_database_url)
        await run_in_threadpool(open_pool, app.state.engine)
        app.state.key_cache = KeyCache(resolved.api_key_cache_seconds)
        app.state.metrics = metrics
        store_metrics = StoreCollector(
            app.state.engine, max_columns_per_model=resolved.metrics_max_columns_per_model
        )
        metrics.registry.register(store_metrics)
        scheduler = start_in_background(resolved) if resolved.scheduler else None
        try:
            yield
        finally:
            if scheduler is not None:
                thread, stop = scheduler
                stop.set()
                thread.join(timeout=10)
            metrics.registry.unregister(store_metrics)
            app.state.engine.dispose()

    app = FastAPI(
        title="Model monitor",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(refuse_unstorable_text)],
    )
    app.add_middleware(RequestSizeLimit)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    install_error_handlers(app)
    routers = (
        health,
        keys,
        models,
        references,
        sidecar,
        monitors,
        runs,
        quality,
        events,
        channels,
        retraining,
        endpoints,
        rollouts,
        overview,
        drift_matrix,
        distributions,
        versions,
        kserve,
        integrations,
    )
    for module in routers:
        errors = DATABASE_UNAVAILABLE if module is health else API_ERRORS
        app.include_router(module.router, responses=errors)
    publish_links(app)
    # The dashboard reads this same server over HTTP, as any client of the API would, with
    # the key of the user signed in to it.
    shown = settings or get_settings()
    dashboard = create_dashboard(
        shown.public_url,
        None,
        path_prefix="/dashboard/",
        sessions=cipher_for(shown.secret_keys),
        session_seconds=int(shown.dashboard_session_seconds),
    )
    app.mount("/dashboard", WSGIMiddleware(dashboard.server))  # type: ignore[arg-type]
    return app
