"""The per-request GraphQL context: who is asking, the store, the jobs, the batch loader, the row budget."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from starlette.requests import HTTPConnection, Request
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from carbon254.application.datasets import DatasetQuery
from carbon254.application.identity import AuthenticationError, Principal, RateLimited
from carbon254.config import Settings
from carbon254.jobs import JobRegistry, JobState
from carbon254.metadata.database import MetadataDatabase
from carbon254.objects.base import ObjectStore
from carbon254.service.graphql.errors import too_large
from carbon254.service.graphql.loaders import dataset_loader
from carbon254.service.identity import as_api_error, authenticate_request
from carbon254.store.base import Store


class RowBudget:
    """The rows one GraphQL request may still return over all its fields (`graphql_max_rows`)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._lock = threading.Lock()

    def charge(self, rows: int) -> None:
        """Count `rows` more; raise the `RESULT_TOO_LARGE` error once the total passes the limit."""
        with self._lock:
            self.used += rows
            used = self.used
        if used > self.limit:
            raise too_large(used, self.limit)


@dataclass(frozen=True, slots=True)
class JobServices:
    """What the job fields use, as `service.jobs.install_jobs` put it on the app's state."""

    state: JobState
    kinds: JobRegistry
    objects: ObjectStore


class GraphQLContext(BaseContext):
    """What resolvers read from `info.context`.

    `principal` is None only for the request that loads the GraphiQL page,
    which runs no resolver.
    """

    def __init__(
        self,
        principal: Principal | None,
        store: Store,
        settings: Settings,
        jobs: JobServices | None = None,
    ) -> None:
        super().__init__()
        self.principal = principal
        self.store = store
        self.settings = settings
        self._jobs = jobs
        self.rows = RowBudget(settings.graphql_max_rows)
        self.datasets: DataLoader[DatasetQuery, pa.Table] = dataset_loader(store)

    def caller(self) -> Principal:
        """The authenticated caller (always set when a query runs)."""
        if self.principal is None:
            raise RuntimeError("a GraphQL query ran without an authenticated caller")
        return self.principal

    def jobs(self) -> JobServices:
        """The app's job state, kinds and object store (always there in an app `create_app` built)."""
        if self._jobs is None:
            raise RuntimeError("the app has no job state: build it with create_app, or call install_jobs")
        return self._jobs

    def metadata(self) -> MetadataDatabase | None:
        """The app's metadata database (marked curves, scenarios), or None outside an app request."""
        request = self.request
        return getattr(request.app.state, "metadata", None) if isinstance(request, Request) else None

    def http_request(self) -> Request:
        """The HTTP request this operation came in (Strawberry sets it; GraphQL is served over HTTP only)."""
        if not isinstance(self.request, Request):
            raise RuntimeError("a GraphQL operation ran outside an HTTP request")
        return self.request


def _job_services(state: Any) -> JobServices | None:
    """The job services on an app's state, or None for an app built without `install_jobs`."""
    if getattr(state, "job_state", None) is None:
        return None
    return JobServices(state.job_state, state.job_registry, state.objects)


def _wants_playground(connection: HTTPConnection) -> bool:
    """Whether this is a browser loading the GraphiQL page (a GET for HTML without a query).

    The page is static and carries no data, so it is served without
    credentials; the queries it then sends are authenticated like any other.
    """
    return (
        connection.scope["type"] == "http"
        and connection.scope["method"] == "GET"
        and "query" not in connection.query_params
        # Strawberry's own rule for rendering the page.
        and any(kind in connection.headers.get("accept", "") for kind in ("text/html", "*/*"))
    )


def get_context(connection: HTTPConnection) -> GraphQLContext:
    """FastAPI dependency building the context; 401 (or 429) with the common error body on bad credentials.

    Takes the connection rather than the request so Strawberry's WebSocket
    route (which has no subscriptions to serve here) resolves it too.
    """
    settings: Settings = connection.app.state.settings
    store: Store | None = getattr(connection.app.state, "store", None)
    if store is None:
        raise RuntimeError(
            "the store is not open: run the app with its lifespan, or pass store= to create_app"
        )
    if _wants_playground(connection):
        return GraphQLContext(None, store, settings)
    jobs = _job_services(connection.app.state)
    try:
        principal = authenticate_request(connection.app.state, connection.headers, connection.state)
    except (AuthenticationError, RateLimited) as exc:
        raise as_api_error(exc) from None
    return GraphQLContext(principal, store, settings, jobs)
