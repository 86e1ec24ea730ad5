"""Entitlements on open streams: each connection's principal is re-checked as soon as credentials change.

Every revocation, rotation and entitlement change bumps the metadata
database's credentials version (`metadata.credentials`). The
`CredentialsGuard` of a process holds the version it last saw and the
connections whose principal came from a credential. Before the hub delivers
a message it asks the guard to clear it: when the version was not read
since that message arrived, the guard reads it (one tiny query, shared by
every message that arrived before the read started) and, if it moved,
authenticates every connection's credential again and hands each
connection its new principal, or the refusal, before the message goes out.
So a change committed before a message reaches this process is applied to
that message, whichever process made the change.

Idle connections hear of a change at once too: a change made by this
process is announced through the broker's Redis pub/sub when there is one
(so every other service process re-checks immediately), and a notice from
another process makes this one re-check.

When the version cannot be read (the metadata database is away) nothing is
delivered to connections holding credentials until it can: messages wait
in the broker's bounded queues, and the hub catches up from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import Protocol

from carbon254.application.identity import AuthenticationError, Principal
from carbon254.service.identity import Authenticator
from carbon254.service.stream.broker import MessagesLost, RedisBroker, SubscriptionClosed

logger = logging.getLogger("carbon254.service.stream")

RETRY_MIN_S = 0.05
RETRY_MAX_S = 2.0
NOTICE = b"credentials changed"

# What authenticating a credential again gives: the principal now, or the reason it is refused.
Outcome = Principal | AuthenticationError


class Guarded(Protocol):
    """A connection whose principal the guard keeps current."""

    @property
    def credential(self) -> str | None:
        """The credential it authenticated with (None: nothing to re-check)."""
        ...

    def apply(self, outcome: Outcome) -> None:
        """Adopt a re-checked principal, ending what it no longer allows, or close on a refusal."""
        ...


def notice_channel(namespace: str) -> str:
    """The Redis channel on which processes announce a credentials change to each other."""
    return f"{namespace}:credentials"


class CredentialsGuard:
    """Keeps the principals of this process's stream connections in step with the credentials version.

    `read_version` reads the metadata database's version (blocking; run in a
    worker thread); `authenticator()` is the app's current authenticator.
    With a `RedisBroker`, changes are announced to and heard from the other
    processes on `notice_channel(namespace)`.
    """

    def __init__(
        self,
        read_version: Callable[[], int],
        authenticator: Callable[[], Authenticator],
        *,
        broker: RedisBroker | None = None,
        namespace: str = "",
    ) -> None:
        self._read_version = read_version
        self._authenticator = authenticator
        self._broker = broker
        self._channel = notice_channel(namespace)
        self._sessions: set[Guarded] = set()
        self._version: int | None = None
        self._lock = asyncio.Lock()
        # Messages are numbered as they arrive; every message up to `_cleared` arrived
        # before a version read that found no change left to apply.
        self._issued = 0
        self._cleared = 0
        self._failing = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._listener: asyncio.Task[None] | None = None

    # ---- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Listen for other processes' notices (with Redis); call on the event loop at startup."""
        if self._broker is not None and self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="carbon254-stream-credentials")

    async def stop(self) -> None:
        """Stop listening and drop pending announcements."""
        tasks = [*self._tasks, *([self._listener] if self._listener is not None else [])]
        self._listener = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task

    # ---- connections -----------------------------------------------------------------------------

    def read_version(self) -> int | None:
        """The credentials version now, or None when it cannot be read (blocking: worker thread)."""
        try:
            return self._read_version()
        except Exception:
            return None

    async def admit(self, session: Guarded, version: int | None) -> None:
        """Guard `session`, whose principal was authenticated after reading `version`.

        If the guard has already applied a later version to the others (a
        change landed during the handshake), the session is re-checked now.
        """
        async with self._lock:
            self._sessions.add(session)
            if version is None or (self._version is not None and version < self._version):
                await self._recheck([session])

    def release(self, session: Guarded) -> None:
        """Stop guarding `session` (it closed, or its principal no longer comes from a credential)."""
        self._sessions.discard(session)

    # ---- delivery --------------------------------------------------------------------------------

    def ticket(self) -> int:
        """Number a message that just arrived; pass the number to `clear`/`cleared` before delivering it."""
        self._issued += 1
        return self._issued

    def clear(self, ticket: int) -> bool:
        """Whether the message numbered `ticket` may go out now (no version read is needed for it)."""
        return ticket <= self._cleared or not self._sessions

    async def cleared(self, ticket: int) -> None:
        """Return once every change committed before message `ticket` arrived is applied to the sessions.

        Retries with backoff while the version cannot be read or a credential
        cannot be checked: nothing is delivered meanwhile.
        """
        delay = RETRY_MIN_S
        while not self.clear(ticket):
            try:
                await self._refresh(ticket)
            except Exception as exc:
                if not self._failing:
                    self._failing = True
                    logger.warning("stream: cannot re-check credentials (%s); messages wait", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_S)
        if self._failing:
            self._failing = False
            logger.warning("stream: credentials can be re-checked again; delivering")

    async def refresh(self) -> None:
        """Read the version now and apply a change to every session (after a notice)."""
        await self._refresh(None)

    async def _refresh(self, ticket: int | None) -> None:
        async with self._lock:
            if ticket is not None and ticket <= self._cleared:
                return  # a read that started after this message arrived has just finished
            started = self._issued
            version = await asyncio.to_thread(self._read_version)
            if version != self._version:
                await self._recheck(list(self._sessions))
                self._version = version
            self._cleared = max(self._cleared, started)

    async def _recheck(self, sessions: Iterable[Guarded]) -> None:
        """Authenticate each session's credential again (once per distinct credential) and apply it."""
        pending = [(s, c) for s in sessions if (c := s.credential) is not None]
        if not pending:
            return
        outcomes = await asyncio.to_thread(self._authenticate_all, {c for _, c in pending})
        for session, credential in pending:
            # Not if it closed, or authenticated with another credential, while this one was checked.
            if session in self._sessions and session.credential == credential:
                session.apply(outcomes[credential])

    def _authenticate_all(self, credentials: set[str]) -> dict[str, Outcome]:
        authenticator = self._authenticator()
        outcomes: dict[str, Outcome] = {}
        for credential in credentials:
            try:
                outcomes[credential] = authenticator.authenticate(credential)
            except AuthenticationError as exc:
                outcomes[credential] = exc
        return outcomes

    # ---- notices ---------------------------------------------------------------------------------

    def announce(self) -> None:
        """A change was committed by this process: re-check here, and tell the other processes.

        Call on the event loop (from another thread: `loop.call_soon_threadsafe(guard.announce)`).
        """
        task = asyncio.create_task(self._announce())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _announce(self) -> None:
        if self._broker is not None:
            try:
                await self._broker.publish(self._channel, NOTICE)
            except Exception as exc:
                logger.warning("stream: could not announce a credentials change to other processes (%s)", exc)
        try:
            await self.refresh()
        except Exception as exc:
            # Deliveries still wait for a successful re-check (see `cleared`).
            logger.warning("stream: cannot re-check credentials after a change (%s)", exc)

    async def _listen(self) -> None:
        """Re-check on every notice from another process, and after any notice may have been lost."""
        assert self._broker is not None
        delay = RETRY_MIN_S
        while True:
            try:
                subscription = await self._broker.subscribe(self._channel)
            except SubscriptionClosed:
                return
            delay = RETRY_MIN_S
            try:
                while True:
                    # A loss means a notice may have been missed while Redis was away: re-check anyway.
                    with contextlib.suppress(MessagesLost):
                        await subscription.get()
                    try:
                        await self.refresh()
                    except Exception as exc:
                        logger.warning("stream: cannot re-check credentials after a notice (%s)", exc)
            except SubscriptionClosed:
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_S)
            finally:
                await subscription.close()
