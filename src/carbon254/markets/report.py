"""`Report`: one thing an ISO publishes (a file or endpoint layout) and the parser for it."""

from __future__ import annotations

import re
from collections.abc import Callable
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


@dataclass(frozen=True, slots=True)
class Report:
    """One published report layout.

    `name` is the ISO's own identifier (e.g. `NP6-905-CD`, `PRC_LMP`,
    `da_hrl_lmps`). `parse` is pure: the payload's bytes exactly as the ISO
    serves them (zip, CSV, XML or JSON) to a canonical table of `dataset`,
    with `published_at` and `ingested_at` left null for the ingest job to
    fill. `markets` lists the store markets its rows may carry. `file_pattern`
    matches the ISO's file names (a zip's member names count too) and
    `header` holds column names that together identify the layout when the
    name does not; both drive `registry.detect_report`. `interval` is the
    nominal length of one interval (None for irregular or non-interval data)
    and `cadence` how often the ISO publishes a new file, which sets the
    polling rate of `ingest --follow`.
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

    def __str__(self) -> str:
        return f"{self.iso.value} {self.name} ({self.title})"
