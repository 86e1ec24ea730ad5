"""In-process single-flight: concurrent calls for one key run the work once and share its outcome."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar, cast

T = TypeVar("T")


@dataclass(slots=True)
class _Call(Generic[T]):
    """One running computation; waiters block on `done`, then read `value` or `error`."""

    done: threading.Event = field(default_factory=threading.Event)
    waiters: int = 0
    value: T | None = None
    error: BaseException | None = None


class SingleFlight(Generic[T]):
    """Deduplicates concurrent work per key (like Go's `singleflight.Group`).

    The first caller of `run(key, work)` (the leader) runs `work`; callers
    arriving while it runs wait and receive the same value, or the same
    exception. Nothing is remembered once the call finishes: caching is the
    caller's business.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, _Call[T]] = {}

    def waiters(self, key: str) -> int:
        """How many callers are waiting for `key`'s running call (0 when none runs); for diagnostics."""
        with self._lock:
            call = self._calls.get(key)
            return 0 if call is None else call.waiters

    def run(self, key: str, work: Callable[[], T]) -> tuple[T, bool]:
        """`work()`'s result for `key` and whether it was shared (True for waiters, False for the leader)."""
        with self._lock:
            call = self._calls.get(key)
            leader = call is None
            if call is None:
                call = _Call()
                self._calls[key] = call
            else:
                call.waiters += 1
        if not leader:
            call.done.wait()
            if call.error is not None:
                raise call.error
            return cast(T, call.value), True  # the leader set it before `done`
        try:
            call.value = work()
            return call.value, False
        except BaseException as exc:
            call.error = exc
            raise
        finally:
            with self._lock:
                del self._calls[key]
            call.done.set()
