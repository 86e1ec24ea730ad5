"""FastAPI dependencies: the store and settings the app was created with, taken from `app.state`.

They are `async` because they only read attributes: FastAPI runs a sync
dependency on a worker thread, a round trip that cost more than the cached
answer it precedes.
"""

from __future__ import annotations

from fastapi import Request

from carbon254.config import Settings
from carbon254.store.base import Store


async def get_store(request: Request) -> Store:
    """The app's market-data store (opened at startup, closed at shutdown)."""
    store: Store | None = getattr(request.app.state, "store", None)
    if store is None:
        # Only reachable when the app is driven without its lifespan (e.g. a
        # TestClient used outside `with`): a server bug, not the caller's.
        raise RuntimeError(
            "the store is not open: run the app with its lifespan, or pass store= to create_app"
        )
    return store


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings
