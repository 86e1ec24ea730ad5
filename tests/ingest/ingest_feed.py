"""A minimal made-up ISO feed for exercising the ingest engine (not a real ISO's layout).

Files are `/prices/<YYYYMMDD>.csv` with `location,hour,lmp` rows for one UTC
day; the report parses them into canonical ERCOT `DAM` LMP rows. Real ISO
layouts are tested in tests/markets; this keeps the engine tests independent
of any one ISO's quirks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import polars as pl
import pyarrow as pa

from carbon254.isos import Iso
from carbon254.markets.canonical import canonical_table
from carbon254.markets.connector import DownloadTarget, Payload
from carbon254.markets.report import ParseError, Report
from carbon254.markets.transport import FetchError, IsoClient
from carbon254.replay import ReplayRequest, Reply, Route
from carbon254.schema import Dataset


def parse_prices(data: bytes) -> pa.Table:
    """`day,location,hour,lmp` CSV to canonical LMP rows (hour = UTC hour index of `day`)."""
    try:
        raw = pl.read_csv(
            data, schema={"day": pl.Date, "location": pl.String, "hour": pl.Int64, "lmp": pl.Float64}
        )
    except pl.exceptions.PolarsError as exc:
        raise ParseError(f"bad price CSV: {exc}") from None
    start = pl.col("day").cast(pl.Datetime("us", "UTC")) + pl.duration(hours=pl.col("hour"))
    frame = raw.select(
        pl.lit("ERCOT").alias("iso"),
        pl.lit("DAM").alias("market"),
        pl.col("location"),
        pl.lit("hub").alias("location_type"),
        start.alias("interval_start"),
        (start + pl.duration(hours=1)).alias("interval_end"),
        pl.col("lmp"),
    )
    return canonical_table(Dataset.LMP, frame)


PRICES = Report(
    iso=Iso.ERCOT,
    name="TEST-PRICES",
    title="made-up hourly prices",
    dataset=Dataset.LMP,
    markets=("DAM",),
    parse=parse_prices,
    file_pattern=re.compile(r"^prices_\d{8}\.csv$"),
    header=("day", "location", "hour", "lmp"),
    interval=timedelta(hours=1),
    cadence=timedelta(hours=1),
)


def day_csv(day: date, prices: dict[str, float], hours: int = 24) -> bytes:
    lines = ["day,location,hour,lmp"]
    lines += [f"{day},{loc},{h},{p + h}" for loc, p in prices.items() for h in range(hours)]
    return ("\n".join(lines) + "\n").encode()


@dataclass
class PriceSite:
    """Files the replay server serves, editable by the test (e.g. a corrected price)."""

    files: dict[str, bytes] = field(default_factory=dict)

    def routes(self) -> list[Route]:
        def serve(r: ReplayRequest) -> Reply | None:
            body = self.files.get(r.path.rsplit("/", 1)[-1])
            return Reply(200, body) if body is not None else None

        return [Route(re.compile(r"/prices/\d{8}\.csv"), serve)]


class PriceConnector:
    """Connector for the made-up feed: one file per day; 404 means nothing published yet."""

    iso = Iso.ERCOT

    @property
    def targets(self) -> tuple[DownloadTarget, ...]:
        return (DownloadTarget(Dataset.LMP, "DAM", PRICES),)

    def fetch(self, client: IsoClient, dataset: Dataset, market: str, day: date) -> Iterator[Payload]:
        url = f"https://prices.example/prices/{day:%Y%m%d}.csv"
        try:
            resp = client.get(url)
        except FetchError as exc:
            if exc.status == 404:
                return
            raise
        yield Payload(f"prices_{day:%Y%m%d}.csv", resp.content, PRICES, client.url(url))
