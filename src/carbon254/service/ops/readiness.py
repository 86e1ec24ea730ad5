"""Readiness: `/ready` answers 200 only when every backend the app depends on answers.

Each backend's installer registers a `ReadinessCheck` on the app with
`add_readiness_check(app, check)`: the store (always, by `install_operations`),
the metadata database, the cache or Redis, the message broker. A check is a
function that returns when the backend is usable and raises otherwise;
plain functions run in a worker thread, coroutine functions on the event
loop, and each is cut off after its `timeout_s`. Checks run concurrently, so
`/ready` takes as long as the slowest one, never longer than the largest
timeout.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
from fastapi import FastAPI
from starlette.datastructures import State

from carbon254.schema import Dataset
from carbon254.service.ops.redaction import redact_text
from carbon254.store.base import Store

DEFAULT_TIMEOUT_S = 2.0

Probe = Callable[[], None] | Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ReadinessCheck:
    """A named backend probe: `probe()` returns when the backend is usable, raises when it is not."""

    name: str
    probe: Probe
    timeout_s: float = DEFAULT_TIMEOUT_S


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one check: `ok`, how long it took (ms) and, when it failed, why."""

    name: str
    ok: bool
    duration_ms: float
    error: str | None = None


def readiness_checks(state: State) -> list[ReadinessCheck]:
    """The app's check list (`app.state.readiness`), created empty on first use."""
    checks: list[ReadinessCheck] | None = getattr(state, "readiness", None)
    if checks is None:
        checks = []
        state.readiness = checks
    return checks


def add_readiness_check(app: FastAPI, check: ReadinessCheck) -> None:
    """Make `/ready` depend on `check` too; call it from an installer (`install_cache`, ...)."""
    checks = readiness_checks(app.state)
    if any(existing.name == check.name for existing in checks):
        raise ValueError(f"a readiness check named {check.name!r} is already registered")
    checks.append(check)


async def _run(check: ReadinessCheck) -> CheckResult:
    began = time.perf_counter()
    error: str | None = None
    try:
        with anyio.fail_after(check.timeout_s):
            if inspect.iscoroutinefunction(check.probe):
                await check.probe()
            else:
                probe: Callable[[], Any] = check.probe
                # Abandoned on timeout: a hung driver call cannot be interrupted, only stopped waiting for.
                await anyio.to_thread.run_sync(probe, abandon_on_cancel=True)
    except TimeoutError:
        error = f"no answer within {check.timeout_s:g} s"
    except Exception as exc:  # any failure of the backend means not ready, and says why
        error = redact_text(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    return CheckResult(check.name, error is None, round((time.perf_counter() - began) * 1000, 3), error)


async def run_checks(checks: Sequence[ReadinessCheck]) -> list[CheckResult]:
    """Every check's result, in registration order; the checks run concurrently."""
    results: list[CheckResult | None] = [None] * len(checks)

    async def one(index: int, check: ReadinessCheck) -> None:
        results[index] = await _run(check)

    async with anyio.create_task_group() as group:
        for index, check in enumerate(checks):
            group.start_soon(one, index, check)
    return [r for r in results if r is not None]


def store_check(state: State) -> ReadinessCheck:
    """The store is open and its manifest readable (a catalog lookup that reads no row data)."""

    def probe() -> None:
        store: Store | None = getattr(state, "store", None)
        if store is None:
            raise RuntimeError("the store is not open")
        store.markets(Dataset.LMP, "PJM")

    return ReadinessCheck("store", probe)
