"""What presentation needs to know about a table: its time columns and the keys that tell rows apart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class TableLayout(Protocol):
    """The columns `present` groups and re-times by.

    `time_column`/`end_column` bound each row's interval (UTC); `key` tells
    rows apart (the time column among them) and `location_column`, one of
    the keys or None, orders the output first. Every canonical `DatasetSpec`
    is a layout; so is `Layout`, for computed tables such as spreads.
    """

    @property
    def time_column(self) -> str: ...

    @property
    def end_column(self) -> str: ...

    @property
    def key(self) -> tuple[str, ...]: ...

    @property
    def location_column(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Layout:
    """A `TableLayout` of a computed table."""

    time_column: str
    end_column: str
    key: tuple[str, ...]
    location_column: str | None
