"""The `Connector` protocol each ISO module implements for downloads."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from carbon254.isos import Iso
from carbon254.markets.report import Report
from carbon254.markets.transport import IsoClient
from carbon254.schema import Dataset


@dataclass(frozen=True, slots=True)
class Payload:
    """One downloaded file or API page, byte for byte as the ISO served it.

    `name` is the ISO's file name where it gives one (else one derived from
    the request), used for quarantine and for report detection.
    `published_at` is the ISO's publication time (UTC) when it says.
    """

    name: str
    data: bytes
    report: Report
    url: str
    published_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DownloadTarget:
    """A (dataset, market) pair a connector can download, with the report that serves it."""

    dataset: Dataset
    market: str
    report: Report


class Connector(Protocol):
    """Downloads for one ISO.

    `targets` lists what can be downloaded. `fetch` yields the payloads that
    hold `day` (a market day in the ISO's market time) for one target; it
    raises `transport.FetchError` when the ISO cannot be reached after
    retries, and yields nothing when the ISO has published nothing for that
    day yet.
    """

    iso: Iso

    @property
    def targets(self) -> tuple[DownloadTarget, ...]: ...

    def fetch(self, client: IsoClient, dataset: Dataset, market: str, day: date) -> Iterator[Payload]: ...
