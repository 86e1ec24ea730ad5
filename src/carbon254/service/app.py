"""The application factory: `create_app(settings, store) -> FastAPI`.

Run with `uvicorn --factory carbon254.service.app:create_app`; settings then
come from `CARBON254_*` environment variables. The store is opened at startup
and closed at shutdown. The service keeps no copy of any data: every request
reads the store, which picks up what another process (`carbon254 ingest`)
committed meanwhile.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

import anyio
from fastapi import FastAPI

from carbon254.config import AuthMode, Settings
from carbon254.jobs import JobRegistry
from carbon254.jobs import registry as job_registry
from carbon254.service.audit import install_audit
from carbon254.service.auth import install_authentication, install_metadata
from carbon254.service.cache import install_cache
from carbon254.service.docs import install_local_docs, local_assets
from carbon254.service.errors import install_error_handlers
from carbon254.service.identity import OpenAuthenticator
from carbon254.service.jobs import JobWorkers, install_jobs
from carbon254.service.metrics import install_metrics
from carbon254.service.ops.heap import install_heap_freeze
from carbon254.service.ops.install import install_operations
from carbon254.service.routes import mount_routers
from carbon254.service.stream import install_stream
from carbon254.store import open_store
from carbon254.store.base import Store

DESCRIPTION = (
    "North American wholesale power-market data. Prices are $/MWh; times are half-open "
    "[interval_start, interval_end) intervals, UTC unless `tz` asks for another zone. "
    "Errors are JSON `{code, message, parameter}`; a misspelled name gets `suggestions`."
)


def _version() -> str:
    try:
        return version("carbon254")
    except PackageNotFoundError:
        return "0+unknown"


def create_app(
    settings: Settings | None = None, store: Store | None = None, jobs: JobRegistry | None = None
) -> FastAPI:
    """Build the service.

    `settings` defaults to the environment (`CARBON254_STORE`,
    `CARBON254_DATA_DIR`, limits). `store` defaults to the store
    `settings.store` names (`duckdb://`: the embedded store in
    `settings.data_dir`), opened at startup and closed at shutdown; a store
    passed in stays the caller's to close, so tests and embedding programs
    can keep using it. `jobs` are the job kinds `POST /v1/jobs` accepts and
    the service's workers run (default: the process-wide registry).
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Innermost of the lifespans: the job workers stop before the metadata database closes.
        workers: JobWorkers = app.state.job_workers
        workers.start()
        try:
            if store is not None:
                app.state.store = store
                yield
                return
            opened = open_store(settings.store, settings.data_dir)
            app.state.store = opened
            try:
                yield
            finally:
                app.state.store = None
                opened.close()
        finally:
            await anyio.to_thread.run_sync(workers.stop)

    assets = local_assets()
    app = FastAPI(
        title="254Carbon",
        version=_version(),
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None if assets else "/docs",
        redoc_url=None if assets else "/redoc",
    )
    app.state.settings = settings
    # Set before startup too, so a TestClient used without `with` still finds it.
    app.state.store = store
    if assets is not None:
        install_local_docs(app, assets)
    install_error_handlers(app)
    # Before every installer below: they register their metrics on app.state.metrics_registry.
    install_metrics(app, settings)
    # Identity first: every router below reads app.state.authenticator and rate_limiter.
    if settings.auth is AuthMode.OFF:
        app.state.authenticator = OpenAuthenticator()
        app.state.rate_limiter = None
    else:
        install_authentication(app, settings)
    # Backends and surfaces: one install_* call each (cache, audit, stream, GraphQL, operations).
    install_metadata(app, settings)
    install_audit(app, settings)
    install_cache(app, settings)
    install_stream(app, settings)
    install_jobs(app, settings, jobs if jobs is not None else job_registry)
    install_operations(app, settings)  # last of the install_* calls: its middleware wraps theirs
    mount_routers(app, settings)  # the domains settings.only selects (default: all)
    install_heap_freeze(app)  # outermost lifespan: freezes what every startup step left alive
    return app
