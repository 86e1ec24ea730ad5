"""Local mode: the service's own app, answering in this process over an embedded store (no server).

`Client.local(path)` and `AsyncClient.local(path)` send their requests to
`create_app(...)` through an ASGI transport instead of a socket, so every
call validates, reads and encodes exactly as a served request would, with
authentication off. This module is the SDK's only link to the server code
and imports it when local mode is asked for, so the SDK alone installs and
runs without the server's dependencies.

Jobs work too: the app's job workers (threads feeding `CARBON254_COMPUTE`,
by default a pool of processes started with `spawn`) start on the first
jobs call and stop at `close`, handing an unfinished job back to the queue
of the data dir's metadata database. Because pool processes re-import the
calling script, a script submitting jobs in local mode keeps its code under
`if __name__ == "__main__":` (notebooks need nothing).
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from anyio.from_thread import start_blocking_portal

LOCAL_BASE_URL = "http://carbon254.local"


class LocalApp:
    """The app over the store of `data_dir`, and what it opened; `close()` releases them.

    The store is the one `CARBON254_STORE` names, read against `data_dir`
    (by default, `duckdb://`, the embedded store in `data_dir` itself).
    """

    def __init__(self, data_dir: str | Path) -> None:
        try:
            from carbon254.config import AuthMode, Settings
            from carbon254.service.app import create_app
            from carbon254.store import StoreNotFound, open_store
        except ImportError as exc:
            raise ImportError(
                "local mode runs the service in process and needs the full carbon254 package "
                f"(pip install carbon254), not only the client: {exc}"
            ) from None
        settings = Settings(data_dir=Path(data_dir), auth=AuthMode.OFF)
        try:
            self.store = open_store(settings.store, settings.data_dir, create=False)
        except StoreNotFound as exc:
            raise FileNotFoundError(f"{exc}: run `carbon254 ingest` or `carbon254 simulate` first") from None
        self.app: Any = create_app(settings, self.store)
        self._jobs_started = False

    def start_jobs(self) -> None:
        """Start the app's job workers, once (a served app starts them at startup; this one has none)."""
        if not self._jobs_started:
            self._jobs_started = True
            self.app.state.job_workers.start()

    def close(self) -> None:
        """Stop the job workers, the audit writer, close the metadata database and the store."""
        state = self.app.state
        if self._jobs_started:
            # Before the metadata database closes: a stopping worker hands its job back through it.
            state.job_workers.stop()
        audit = getattr(state, "audit_log", None)
        if audit is not None:
            audit.close()
        metadata = getattr(state, "metadata", None)
        if metadata is not None:
            metadata.close()
        self.store.close()


class SyncInProcessTransport(httpx.BaseTransport):
    """An `httpx` transport for sync clients that runs an ASGI app on a private event loop thread."""

    def __init__(self, app: Any) -> None:
        self._asgi = httpx.ASGITransport(app=app)
        self._stack = ExitStack()
        self._portal = self._stack.enter_context(start_blocking_portal())

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Run the request through the app and return the whole answer."""

        async def call() -> httpx.Response:
            answer = await self._asgi.handle_async_request(request)
            body = await answer.aread()
            return httpx.Response(answer.status_code, headers=answer.headers, content=body, request=request)

        return self._portal.call(call)

    def close(self) -> None:
        """Stop the event loop thread."""
        self._stack.close()
