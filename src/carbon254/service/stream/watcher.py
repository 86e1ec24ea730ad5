"""The watcher: follows the store's change feed and publishes each new commit to the broker.

Every `poll_s` seconds the leading process (see `lease`) asks the store for
the rows committed since its cursor (`Store.changes_since`, a single manifest
`stat` when nothing changed, run in a worker thread because it may read
files) and publishes one `CommitMessage` per channel and commit. Because the
store is the source, a commit made by any process (`carbon254 ingest`, the
demo's live feed, another service) is published. A page cut short by the
feed's row limit is followed at once, without waiting for the next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from carbon254.service.stream.lease import FeedLease
from carbon254.service.stream.messages import change_messages
from carbon254.store.base import Changes, Store

logger = logging.getLogger("carbon254.service.stream")

PAGE_ROWS = 100_000  # rows read from the change feed per step
RETRY_MAX_S = 2.0


class Watcher:
    """Publishes the store's commits while running; start/stop with the application."""

    def __init__(
        self,
        store: Callable[[], Store | None],
        lease: FeedLease,
        namespace: str,
        poll_s: float,
        *,
        listened: Callable[[], bool] = lambda: True,
        on_page: Callable[[str, Changes], Awaitable[None]] | None = None,
    ) -> None:
        self._store = store
        self._lease = lease
        # False when nobody could receive a message (an in-process broker without
        # subscribers): the watcher then skips to the head instead of reading commits.
        self._listened = listened
        # Told each page this process published, with the cursor it was read from (the re-forecaster).
        self._on_page = on_page
        self._namespace = namespace
        self.poll_s = poll_s
        self._task: asyncio.Task[None] | None = None
        self._cursor: str | None = None  # the last cursor this process published or started from
        self.published = 0  # commit messages this process published

    def start(self) -> None:
        """Start polling in a background task."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="carbon254-stream-watcher")

    async def stop(self) -> None:
        """Stop polling and hand leadership over."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):
            await self._lease.release()

    async def _run(self) -> None:
        failing = False
        delay = self.poll_s
        while True:
            try:
                more = await self.step()
                if failing:
                    logger.warning("stream: the change feed publishes again")
                failing, delay = False, self.poll_s
                if not more:
                    await asyncio.sleep(self.poll_s)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not failing:  # once per outage, not once per poll
                    logger.warning("stream: cannot publish the change feed (%s); retrying", exc)
                    failing = True
                await asyncio.sleep(delay)
                delay = min(max(delay * 2, 0.05), RETRY_MAX_S)

    async def step(self) -> bool:
        """Publish what was committed since the cursor, if this process leads; True if more is waiting."""
        store = self._store()
        if store is None:
            return False
        # The head is one stat of the manifest: read on the event loop, so a poll that finds nothing
        # new costs no worker-thread round trip (a hundred of those a second cost the service a
        # third of its request throughput). Only a poll with commits to read goes to a thread.
        head = store.change_cursor()
        if self._cursor is None:
            self._cursor = head
        cursor = await self._lease.acquire(self._cursor)
        if cursor is None or head == cursor:
            return False
        if not self._listened():
            if await self._lease.publish([], head):
                self._cursor = head
            return False
        changes, messages = await asyncio.to_thread(self._read, store, cursor)
        if changes.cursor == cursor:
            return False
        if await self._lease.publish(messages, changes.cursor):
            self._cursor = changes.cursor
            self.published += len(messages)
            if self._on_page is not None:
                try:
                    await self._on_page(cursor, changes)
                except Exception:  # the feed is published: a follower's failure must not publish it again
                    logger.exception("stream: a follower of the change feed failed on a page")
        return changes.more

    def _read(self, store: Store, cursor: str) -> tuple[Changes, list[tuple[str, bytes]]]:
        """A page of the change feed and its encoded messages (off the event loop: it reads files)."""
        changes = store.changes_since(cursor, PAGE_ROWS)
        return changes, [(m.channel.name(self._namespace), m.encode()) for m in change_messages(changes)]
