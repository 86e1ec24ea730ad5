"""After startup, move what lives as long as the process out of the garbage collector's sight.

Modules, the app, its routes and schema are alive for the whole process;
left tracked, every full collection (which pauses every thread, the event
loop's included) walks them again. Frozen at startup, a full collection
walks only what requests allocated. The analytics packages (SciPy, the
curve and scenario engines) grew the startup heap by a third; frozen, the
closed-loop p99 of cached `GET /v1/lmp` with 64 connections fell from
441 to 296 ms (embedded) and 634 to 217 ms (Redis) on the same machine
(`benchmarks/run.py --only service`). Installed last, so it runs after
every other startup step, under `carbon254 serve` and a bare
`uvicorn --factory` alike.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI


def install_heap_freeze(app: FastAPI) -> None:
    """Collect and freeze the heap once the app's startup (every lifespan inside this one) is done."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with inner(app_) as state:
            gc.collect()
            gc.freeze()
            yield state

    app.router.lifespan_context = lifespan
