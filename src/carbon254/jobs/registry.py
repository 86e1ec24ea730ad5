"""Job kinds by name: a kind registers once (at import of its module), workers look it up per job."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from carbon254.jobs.kinds import JobKind

AnyKind = JobKind[Any, Any, Any]


class UnknownJobKind(LookupError):
    """No kind is registered under this name; the message lists the known ones."""

    def __init__(self, name: str, known: list[str]) -> None:
        suggestions = difflib.get_close_matches(name, known, n=3)
        hint = f"; did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        listing = ", ".join(known) if known else "none registered"
        super().__init__(f"unknown job kind {name!r}{hint} (known: {listing})")
        self.name = name
        self.known = known

    def __str__(self) -> str:
        # KeyError-style repr quoting would hide the message's own quotes.
        return str(self.args[0])


class DuplicateJobKind(ValueError):
    """Another kind already holds this name."""


class JobRegistry:
    """The kinds a process can run, by name."""

    def __init__(self) -> None:
        self._kinds: dict[str, AnyKind] = {}

    def register(self, kind: AnyKind) -> AnyKind:
        """Add `kind` under its name and return it; registering the same kind twice is a no-op.

        Raises `DuplicateJobKind` when a different kind already has the name,
        so two domains can never silently shadow one another.
        """
        existing = self._kinds.get(kind.name)
        if existing is not None and existing is not kind:
            raise DuplicateJobKind(f"job kind {kind.name!r} is already registered")
        self._kinds[kind.name] = kind
        return kind

    def lookup(self, name: str) -> AnyKind:
        """The kind registered as `name`; `UnknownJobKind` (naming the known kinds) if there is none."""
        try:
            return self._kinds[name]
        except KeyError:
            raise UnknownJobKind(name, self.names()) from None

    def names(self) -> list[str]:
        """The registered kinds' names, sorted."""
        return sorted(self._kinds)

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def __iter__(self) -> Iterator[AnyKind]:
        return iter([self._kinds[name] for name in self.names()])


# The process-wide registry the service and `carbon254 jobs worker` use; tests make their own.
registry = JobRegistry()


def register(kind: AnyKind) -> AnyKind:
    """Register `kind` in the process-wide registry (see `JobRegistry.register`)."""
    return registry.register(kind)


def lookup(name: str) -> AnyKind:
    """The kind `name` in the process-wide registry (see `JobRegistry.lookup`)."""
    return registry.lookup(name)
