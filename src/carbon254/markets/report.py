"""`Report`: one thing an ISO publishes (a file or endpoint layout) and the parser for it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import pyarrow as pa

from carbon254.isos import Iso
from carbon254.schema import Dataset


class ParseError(ValueError):
    """A payload that does not match its report's published layout.

    The message says what was expected and where it broke (line or row, column),
    so the quarantined file can be fixed or reported to the ISO.
    """


Parser = Callable[[bytes], pa.Table]

# Schema metadata key under which a parser lists the rows it left out (see `SkippedRows`).
SKIPPED_KEY = b"carbon254.skipped"


@dataclass(frozen=True, slots=True)
class SkippedRows:
    """Rows of a payload a parser deliberately left out: a category it does not map, and how many."""

    category: str
    rows: int


def mark_skipped(table: pa.Table, skipped: Sequence[SkippedRows]) -> pa.Table:
    """`table` carrying `skipped` in its schema metadata, for the ingest ledger to record."""
    if not skipped:
        return table
    listed = json.dumps([{"category": s.category, "rows": s.rows} for s in skipped]).encode()
    return table.replace_schema_metadata({**(table.schema.metadata or {}), SKIPPED_KEY: listed})


def skipped_rows(table: pa.Table) -> tuple[SkippedRows, ...]:
    """The rows a parser's output says it left out (empty when it left none out)."""
    listed = (table.schema.metadata or {}).get(SKIPPED_KEY)
    if not listed:
        return ()
    return tuple(SkippedRows(str(s["category"]), int(s["rows"])) for s in json.loads(listed))


@dataclass(frozen=True, slots=True)
class Report:
    """One published report layout.

    `name` is the ISO's own identifier (e.g. `NP6-905-CD`, `PRC_LMP`,
    `da_hrl_lmps`). `parse` is pure: the payload's bytes exactly as the ISO
    serves them (zip, CSV, XML or JSON) to a canonical table of `dataset`,
    with `published_at` and `ingested_at` left null for the ingest job to
    fill; rows of a category it does not map are left out and listed with
    `mark_skipped`, so one unknown category never costs the rest of a real
    answer. `markets` lists the store markets its rows may carry. `file_pattern`
    matches the ISO's file names (a zip's member names count too) and
    `header` holds column names that together identify the layout when the
    name does not; both drive `registry.detect_report`. `interval` is the
    nominal length of one interval (None for irregular or non-interval data)
    and `cadence` how often the ISO publishes a new file, which sets the
    polling rate of `ingest --follow`. `run_stamped` marks a report published
    once per dispatch run, each row stamped with the run's start and given
    `interval` as its provisional length: the run's price holds until the
    next run starts, which one file cannot know, so ingest ends each run's
    interval there (`carbon254.ingest.runs`).
    """

    iso: Iso
    name: str
    title: str
    dataset: Dataset
    markets: tuple[str, ...]
    parse: Parser
    file_pattern: re.Pattern[str] | None
    header: tuple[str, ...]
    interval: timedelta | None
    cadence: timedelta
    run_stamped: bool = False

    def __str__(self) -> str:
        return f"{self.iso.value} {self.name} ({self.title})"
