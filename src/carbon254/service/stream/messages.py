"""What travels through the broker: one commit's rows for one channel, already shaped for clients.

A channel is one (dataset, ISO, market). The publisher (the watcher) turns
each page of the store's change feed into `CommitMessage`s, one per channel
and commit (split into numbered parts past `PART_ROWS` rows), so that every
process decodes a message once and each WebSocket connection only filters
rows by location. `(commit, part)` orders messages: a receiver skips
anything at or before the last position it delivered, which makes a replay
from the store after a loss free of duplicates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from carbon254.schema import Dataset, spec
from carbon254.store.base import ChangeBatch, Changes

PART_ROWS = 5_000  # rows per message: bounds one message's size, whatever one commit holds
LAST_PART = 2**31  # position after every part of a commit
NO_MARKET = "-"

# The columns a client receives per dataset, in this order; times are ISO-8601 UTC.
STREAM_COLUMNS: dict[Dataset, tuple[str, ...]] = {
    Dataset.LMP: ("interval_start", "interval_end", "location", "lmp", "energy", "congestion", "loss"),
    Dataset.AS_PRICE: ("interval_start", "interval_end", "region", "product", "price"),
    Dataset.CAPACITY_PRICE: ("delivery_start", "delivery_end", "zone", "price"),
    Dataset.ORDC_ADDER: (
        "interval_start",
        "interval_end",
        "rt_reserve_adder",
        "rt_reliability_deployment_adder",
    ),
    Dataset.LOAD: ("interval_start", "interval_end", "zone", "kind", "mw", "forecast_issued_at"),
}

# One row of a data message: the dataset's STREAM_COLUMNS -> JSON scalars (str, float, None).
Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Channel:
    """One (dataset, ISO, market) stream; `market` is None for datasets without markets."""

    dataset: Dataset
    iso: str
    market: str | None

    def name(self, namespace: str) -> str:
        """The broker channel name under a deployment's namespace."""
        return f"{namespace}:{self.dataset.value}:{self.iso}:{self.market or NO_MARKET}"


def default_namespace(store_url: str) -> str:
    """A namespace shared by every service over the store at the resolved `store_url` (and no other store)."""
    digest = hashlib.blake2b(store_url.encode(), digest_size=6).hexdigest()
    return f"carbon254:stream:{digest}"


def table_rows(dataset: Dataset, table: pa.Table) -> list[Row]:
    """Rows of a canonical table as client objects: the dataset's stream columns, times ISO-8601 UTC."""
    columns = STREAM_COLUMNS[dataset]
    out = table.select(list(columns))
    for i, name in enumerate(columns):
        col = out.column(i)
        if pa.types.is_timestamp(col.type):
            text = pc.strftime(col.cast(pa.timestamp("us", tz="UTC")), format="%Y-%m-%dT%H:%M:%S")
            # Arrow writes microseconds with %S; keep them only when they are not zero.
            text = pc.replace_substring_regex(text, pattern=r"\.0+$", replacement="")
            out = out.set_column(i, name, pc.binary_join_element_wise(text, "+00:00", ""))
    rows: list[Row] = out.to_pylist()
    return rows


@dataclass(slots=True)
class CommitMessage:
    """Rows one commit added to one channel (or one part of them), as published and received."""

    channel: Channel
    commit: int  # the commit's stamp: the store's change-feed cursor after it
    part: int
    rows: list[Row]
    _frames: dict[frozenset[str] | None, str | None] = field(default_factory=dict, repr=False)

    @property
    def position(self) -> tuple[int, int]:
        """Where this message sits in its channel's order."""
        return (self.commit, self.part)

    def encode(self) -> bytes:
        """The broker payload."""
        c = self.channel
        return orjson.dumps(
            {
                "dataset": c.dataset.value,
                "iso": c.iso,
                "market": c.market,
                "commit": self.commit,
                "part": self.part,
                "rows": self.rows,
            }
        )

    @classmethod
    def decode(cls, raw: bytes) -> CommitMessage:
        """A payload made by `encode`; ValueError if it is not one."""
        try:
            doc = orjson.loads(raw)
            channel = Channel(Dataset(doc["dataset"]), str(doc["iso"]), doc["market"])
            return cls(channel, int(doc["commit"]), int(doc["part"]), list(doc["rows"]))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a stream message: {exc}") from None

    def frame(self, locations: frozenset[str] | None) -> str | None:
        """The client `data` frame (JSON text) of the rows at `locations` (None: all); None if no row.

        Memoized per location set: a process decodes a message once and every
        connection with the same filter shares one encoded frame.
        """
        if locations in self._frames:
            return self._frames[locations]
        rows = self.rows
        if locations is not None:
            loc = spec(self.channel.dataset).location_column
            rows = [r for r in rows if r.get(loc or "") in locations]
        frame = data_frame(self.channel, rows) if rows else None
        self._frames[locations] = frame
        return frame


def data_frame(channel: Channel, rows: list[Row], *, replay: bool = False) -> str:
    """A `data` message for a client: `{"type": "data", dataset, iso, market, replay, data: [rows]}`."""
    return orjson.dumps(
        {
            "type": "data",
            "dataset": channel.dataset.value,
            "iso": channel.iso,
            "market": channel.market,
            "replay": replay,
            "data": rows,
        }
    ).decode()


def batch_messages(batch: ChangeBatch) -> Iterator[CommitMessage]:
    """The messages of one change batch: one per commit, split into parts of `PART_ROWS` rows.

    Deterministic for a given batch, so a replay from the store numbers parts
    exactly as the publisher did.
    """
    channel = Channel(batch.dataset, batch.iso, batch.market)
    table = batch.table
    stamps = table.column("ingested_at").cast(pa.int64())
    for stamp in pc.unique(stamps).to_pylist():
        rows = table_rows(batch.dataset, table.filter(pc.equal(stamps, stamp)))
        for part, first in enumerate(range(0, len(rows), PART_ROWS)):
            yield CommitMessage(channel, int(stamp), part, rows[first : first + PART_ROWS])


def change_messages(changes: Changes) -> Iterator[CommitMessage]:
    """Every message of a change-feed page, channel by channel."""
    for batch in changes.batches:
        yield from batch_messages(batch)


def parse_time(text: str) -> datetime:
    """A time written by `table_rows` back as a UTC-aware datetime."""
    return datetime.fromisoformat(text)
