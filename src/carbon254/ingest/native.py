"""Ingesting one native ISO payload: parse, refuse duplicates, write atomically, or quarantine.

This is the single path every ISO file takes into the store, whether it came
from `ingest FILE --iso`, a backfill or `--follow`: the report's pure parser
turns the bytes into a canonical table, leaving out (and listing) rows of a
category it does not map, which the ledger line records with their counts;
exact repeats of a row are refused and counted; the whole payload is
validated before anything is written; the runs of a run-stamped market are
ended at the next run of their location (`ingest.runs`, which may add
revisions of stored runs to the same write); a payload that fails anywhere is
kept in quarantine with the reason and writes nothing. Every outcome is one
line in the ingest ledger; a payload is one atomic store write, so a payload
holding several markets is one line with market null (it covers each of
them).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from carbon254.ingest.ledger import IngestLedger, LedgerEntry, PayloadStatus
from carbon254.ingest.quarantine import Quarantine, QuarantinedPayload
from carbon254.ingest.runs import end_runs
from carbon254.markets.report import ParseError, Report, skipped_rows
from carbon254.schema import TIMESTAMP, DatasetSpec, ValidationError, Violation, spec, validate
from carbon254.store.base import Store, StoreError

# What a parser may raise on a layout it does not expect, besides ParseError:
# the payload is quarantined with the message rather than crashing the job.
_LAYOUT_ERRORS = (
    ParseError,
    ValueError,
    KeyError,
    IndexError,
    UnicodeDecodeError,
    zipfile.BadZipFile,
    pl.exceptions.PolarsError,
    # Polars panics (a BaseException) on some degenerate inputs, e.g. a CSV
    # that is only a header; that is still a bad payload, not a crashed job.
    pl.exceptions.PanicException,
    pa.ArrowException,
)


@dataclass(frozen=True, slots=True)
class PayloadOutcome:
    """What became of one payload: its ledger line and, if refused, where it was kept."""

    name: str
    report: Report
    entry: LedgerEntry
    quarantined: QuarantinedPayload | None

    @property
    def ok(self) -> bool:
        return self.quarantined is None

    @property
    def error(self) -> str | None:
        return self.quarantined.error if self.quarantined else None


def _fill_published(table: pa.Table, published_at: datetime | None) -> pa.Table:
    if published_at is None:
        return table
    index = table.schema.get_field_index("published_at")
    filled = pc.fill_null(table.column(index), pa.scalar(published_at.astimezone(UTC), TIMESTAMP))
    return table.set_column(index, table.schema.field(index), filled)


def refuse_duplicates(spec_: DatasetSpec, table: pa.Table) -> tuple[pa.Table, int]:
    """The table without exact repeats of a row, and how many were refused.

    Two rows with one key and different values are not a duplicate but a
    contradiction within one payload: `ValidationError` (rule
    `duplicate_key`), so the payload is quarantined rather than guessed at.
    """
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    unique = frame.unique(subset=[c for c in frame.columns if c != "ingested_at"], maintain_order=True)
    refused = frame.height - unique.height
    key = list(spec_.key)
    clash = unique.filter(pl.struct(key).is_duplicated())
    if clash.height:
        first = clash.head(3).select(key).rows()
        raise ValidationError(
            spec_.name.value,
            [
                Violation(
                    "duplicate_key",
                    f"{clash.height} rows give the same {', '.join(key)} with different values "
                    f"(first: {first})",
                    (),
                )
            ],
        )
    return (unique.to_arrow().cast(table.schema) if refused else table), refused


def _single_market(spec_: DatasetSpec, table: pa.Table, report: Report) -> str | None:
    """The one market a payload's rows belong to; None when it holds several (or the dataset has none)."""
    column = spec_.market_column
    if column is None:
        return None
    if table.num_rows == 0:
        return report.markets[0] if len(report.markets) == 1 else None
    markets = pc.unique(table.column(column))
    return str(markets[0].as_py()) if len(markets) == 1 else None


class NativeIngest:
    """Parses and writes native ISO payloads into one store, with ledger and quarantine."""

    def __init__(self, store: Store, ledger: IngestLedger, quarantine: Quarantine) -> None:
        self.store = store
        self.ledger = ledger
        self.quarantine = quarantine

    def ingest(
        self,
        report: Report,
        name: str,
        data: bytes,
        *,
        url: str | None = None,
        published_at: datetime | None = None,
        span: tuple[datetime, datetime] | None = None,
    ) -> PayloadOutcome:
        """Parse and store one payload; on any failure quarantine it and write nothing.

        `published_at` (UTC) fills rows whose parser did not find a
        publication time in the payload itself. `span` is the UTC time range
        the payload was fetched for (a market day), recorded for a quarantined
        payload so data quality can place it on its day.
        """
        spec_ = spec(report.dataset)
        try:
            try:
                parsed = report.parse(data)
            except _LAYOUT_ERRORS as exc:
                reason = str(exc) if isinstance(exc, ParseError) else f"{type(exc).__name__}: {exc}"
                raise ParseError(f"does not parse as {report}: {reason}") from None
            skipped = skipped_rows(parsed)
            table = validate(spec_.name, _fill_published(parsed, published_at))
            table, duplicates = refuse_duplicates(spec_, table)
            # Ending runs may add revisions of stored runs: the ledger counts the payload's own rows.
            batch = end_runs(self.store, spec_, table) if report.run_stamped else table
            result = self.store.write(spec_.name, batch)
        except (ParseError, ValidationError, StoreError) as exc:
            return self._refuse(report, name, data, url, published_at, str(exc), span)
        times = table.column(spec_.time_column)
        entry = LedgerEntry(
            iso=report.iso.value,
            dataset=spec_.name.value,
            market=_single_market(spec_, table, report),
            report=report.name,
            payload=name,
            url=url,
            status=PayloadStatus.WRITTEN,
            rows=table.num_rows + duplicates,
            duplicates=duplicates,
            rows_written=result.rows_written,
            revisions=result.revisions,
            first_interval=pc.min(times).as_py() if table.num_rows else None,
            last_interval=pc.max(times).as_py() if table.num_rows else None,
            published_at=published_at,
            committed_at=datetime.now(UTC),
            skipped=skipped,
        )
        self.ledger.append([entry])
        return PayloadOutcome(name, report, entry, None)

    def refuse_unknown(self, iso: str, name: str, data: bytes, error: str) -> QuarantinedPayload:
        """Quarantine a native file no report of `iso` matches, with the reason; nothing is written.

        Such a file never reaches a parser, so it has no dataset or market
        and no ledger line (data quality counts payloads per dataset); it is
        kept like any other refused payload, under report `unknown`.
        """
        return self.quarantine.put(iso=iso, report="unknown", name=name, data=data, error=error, url=None)

    def _refuse(
        self,
        report: Report,
        name: str,
        data: bytes,
        url: str | None,
        published_at: datetime | None,
        error: str,
        span: tuple[datetime, datetime] | None,
    ) -> PayloadOutcome:
        kept = self.quarantine.put(
            iso=report.iso.value, report=report.name, name=name, data=data, error=error, url=url
        )
        entry = LedgerEntry(
            iso=report.iso.value,
            dataset=report.dataset.value,
            market=report.markets[0] if len(report.markets) == 1 else None,
            report=report.name,
            payload=name,
            url=url,
            status=PayloadStatus.QUARANTINED,
            rows=0,
            duplicates=0,
            rows_written=0,
            revisions=0,
            first_interval=span[0] if span else None,
            last_interval=span[1] if span else None,
            published_at=published_at,
            committed_at=kept.quarantined_at,
            error=error,
        )
        self.ledger.append([entry])
        return PayloadOutcome(name, report, entry, kept)
