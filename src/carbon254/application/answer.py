"""What every request of the application layer produces: rows and the fields that travel with them.

A stored dataset (`DatasetQuery`) and a computed operation (`OperationCall`)
are both `Answerable`: each has a canonical key (equal exactly for requests
that answer the same rows), a data version (a token that changes whenever
data it reads changes, from any process), the entitlement check of its
caller, and `answer(store)`, which reads and computes. The surfaces need
nothing else: REST turns an `Answer` into JSON, CSV, Parquet or Arrow with
an ETag and the query cache keyed by key and version, GraphQL into typed
rows, the SDK and the CLI into frames.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyarrow as pa

from carbon254.application.identity import Principal
from carbon254.store.base import Store


@dataclass(frozen=True, slots=True)
class Answer:
    """Rows in their response columns and order, and the head fields that describe them.

    `head` holds JSON-ready values (`simulated`, `unit`, `query`, and for some
    operations `stats`): top-level keys of a JSON answer, the `carbon254`
    schema metadata of Parquet and Arrow answers.
    """

    table: pa.Table
    head: dict[str, Any] = field(default_factory=dict)


class Answerable(Protocol):
    """A checked request the application layer can answer (see the module docstring)."""

    @property
    def tz(self) -> str | None:
        """The IANA zone the answer's timestamps are shown in (None: UTC)."""
        ...

    @property
    def filename(self) -> str:
        """A download name for the answer, without extension (e.g. `lmp_ercot_dam`)."""
        ...

    def key(self) -> str:
        """Canonical text of the request: equal exactly for requests answering the same rows."""
        ...

    def data_version(self, store: Store) -> str:
        """A token that changes whenever data this request reads changes; cheap (reads no rows)."""
        ...

    def entitle(self, principal: Principal) -> None:
        """Raise a 403 `ApiError` unless `principal` may see this answer."""
        ...

    def answer(self, store: Store) -> Answer:
        """Read and compute the rows; raises `ApiError` for unknown names or refused combinations."""
        ...


def combined_version(versions: Iterable[str]) -> str:
    """One data version for an answer that reads several stored slices: changes when any of them does."""
    parts = list(versions)
    if len(parts) == 1:
        return parts[0]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]
