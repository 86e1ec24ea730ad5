"""The credentials guard on its own: when it re-checks, what it holds back, and what it never applies."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from carbon254.application.identity import AuthenticationError, AuthMethod, Entitlements, Principal
from carbon254.metadata import MetadataDatabase, create_tenant, update_tenant
from carbon254.metadata.credentials import on_credentials_changed
from carbon254.service.stream.guard import CredentialsGuard, Outcome


@dataclass(eq=False)
class Session:
    """A connection as the guard sees it: a credential, and the outcomes applied to it."""

    credential: str | None
    applied: list[Outcome] = field(default_factory=list)

    def apply(self, outcome: Outcome) -> None:
        self.applied.append(outcome)


class Keys:
    """An authenticator over a table of keys that the test changes; counts its calls."""

    def __init__(self) -> None:
        self.isos = {"k-acme": frozenset({"ERCOT", "PJM"})}
        self.calls = 0

    def authenticate(self, credential: str | None) -> Principal:
        self.calls += 1
        isos = self.isos.get(credential or "")
        if isos is None:
            raise AuthenticationError("API key revoked")
        return Principal("acme", credential or "", AuthMethod.API_KEY, Entitlements(isos=isos))


class Version:
    """A credentials version the test bumps, or makes unreadable."""

    def __init__(self) -> None:
        self.value = 1
        self.failing = False

    def read(self) -> int:
        if self.failing:
            raise OSError("metadata database unreachable")
        return self.value


def test_a_message_waits_until_a_change_made_before_it_arrived_is_applied() -> None:
    async def scenario() -> None:
        version, keys = Version(), Keys()
        guard = CredentialsGuard(version.read, lambda: keys)
        session = Session("k-acme")
        await guard.admit(session, 1)

        first = guard.ticket()
        await guard.cleared(first)  # the first read sets the version, re-checking everyone once
        assert guard.clear(first) and keys.calls == 1

        keys.isos["k-acme"] = frozenset({"ERCOT"})
        version.value = 2
        second = guard.ticket()
        assert not guard.clear(second)
        await guard.cleared(second)
        assert session.applied[-1].entitlements.isos == {"ERCOT"}  # type: ignore[union-attr]

        del keys.isos["k-acme"]
        version.value = 3
        await guard.cleared(guard.ticket())
        assert isinstance(session.applied[-1], AuthenticationError)

        # Nothing changed: a new message costs one read and no re-check.
        calls = keys.calls
        await guard.cleared(guard.ticket())
        assert keys.calls == calls

    asyncio.run(scenario())


def test_nothing_is_cleared_while_the_version_cannot_be_read() -> None:
    async def scenario() -> None:
        version, keys = Version(), Keys()
        guard = CredentialsGuard(version.read, lambda: keys)
        session = Session("k-acme")
        await guard.admit(session, 1)
        version.failing = True
        ticket = guard.ticket()
        waiting = asyncio.create_task(guard.cleared(ticket))
        await asyncio.sleep(0.3)
        assert not waiting.done()  # held back, retrying
        keys.isos["k-acme"] = frozenset({"ERCOT"})
        version.value, version.failing = 2, False
        await asyncio.wait_for(waiting, 5)
        assert session.applied[-1].entitlements.isos == {"ERCOT"}  # type: ignore[union-attr]

    asyncio.run(scenario())


def test_an_outcome_is_not_applied_to_a_session_that_changed_credential_meanwhile() -> None:
    async def scenario() -> None:
        version, keys = Version(), Keys()
        session = Session("k-acme")

        def slow_keys() -> Keys:
            session.credential = "k-other"  # an `auth` message lands while the old key is checked
            return keys

        guard = CredentialsGuard(version.read, slow_keys)
        await guard.admit(session, 1)
        await guard.cleared(guard.ticket())
        assert session.applied == []

    asyncio.run(scenario())


def test_a_session_authenticated_against_an_older_version_is_rechecked_when_admitted() -> None:
    async def scenario() -> tuple[int, int]:
        version, keys = Version(), Keys()
        guard = CredentialsGuard(version.read, lambda: keys)
        await guard.admit(Session("k-acme"), 1)
        version.value = 2
        await guard.refresh()
        late = Session("k-acme")
        await guard.admit(late, 1)  # its handshake read version 1, before the change
        current = Session("k-acme")
        await guard.admit(current, 2)
        return len(late.applied), len(current.applied)

    assert asyncio.run(scenario()) == (1, 0)


def test_listeners_hear_of_each_committed_change_after_its_commit(tmp_path: Path) -> None:
    db = MetadataDatabase(f"sqlite:///{tmp_path / 'metadata.db'}")
    heard: list[int] = []
    stop = on_credentials_changed(lambda: heard.append(db.credentials.read()))
    try:
        create_tenant(db, "acme")  # a new tenant changes no credential
        assert heard == []
        update_tenant(db, "acme", isos=["ERCOT"])
        update_tenant(db, "acme", datasets=["lmp"])
        assert heard == [1, 2]  # read after each commit: the new version
        with pytest.raises(Exception, match="unknown tenant"):
            update_tenant(db, "nobody", isos=["ERCOT"])
        assert heard == [1, 2]
        stop()
        update_tenant(db, "acme", isos=["PJM"])
        assert heard == [1, 2]
    finally:
        stop()
        db.close()
