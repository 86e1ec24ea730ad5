"""Small checks shared by the ISO parser tests: UTC instants and the component identity."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A UTC instant."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def check_components(frame: pl.DataFrame) -> None:
    """Every row satisfies lmp = energy + congestion + loss ($/MWh)."""
    off = (frame["lmp"] - frame["energy"] - frame["congestion"] - frame["loss"]).abs()
    assert off.max() < 1e-6  # type: ignore[operator]
