"""`carbon254 quality`: completeness, gaps, revisions, duplicates and ingest lag per market day.

Dates are the ISO's market days (its local calendar, 23 or 25 hours on DST
days); `--start`/`--end` parse like `carbon254 query`'s, read in the ISO's
market time, `--end` exclusive. `--format json` prints what `GET /v1/quality`
answers.

In a terminal the tables fit its width: rather than squeezing every column
until its figures end in an ellipsis, the least telling columns are left
out until the table fits, and a line says which (`--wide` shows them all;
a pipe or a file always gets every column). Every figure shown is whole.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.cells import cell_len
from rich.console import JustifyMethod
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from carbon254.cli.console import CliError, console, fail
from carbon254.cli.options import DEFAULT_DATA_DIR, DEFAULT_STORE, DataDir, StoreUrl
from carbon254.cli.stores import open_cli_store
from carbon254.ingest.ledger import IngestLedger
from carbon254.isos import iso_info
from carbon254.names import UnknownName, resolve_iso, resolve_names
from carbon254.quality import MarketQuality, QualityReport, day_range, quality_report
from carbon254.schema import Dataset, spec
from carbon254.timeseries import parse_bound

NO_MARKET = "-"


@dataclass(frozen=True, slots=True)
class Column:
    """A table column: its header, its alignment and its rank when the terminal is narrow.

    Columns are left out highest rank first until the table fits. `wraps`
    marks the one column whose text (a list of names) may wrap within it;
    it needs `MIN_WRAP_WIDTH` characters, or the whole list if shorter.
    """

    name: str
    rank: int
    justify: JustifyMethod = "right"
    wraps: bool = False


# Per-day figures, by how much they tell at a glance: completeness first, the ledger's last.
DAY_COLUMNS = (
    Column("day", 0, "left"),
    Column("hours", 5),
    Column("locations", 6),
    Column("expected", 3),
    Column("present", 2),
    Column("complete", 1),
    Column("gaps", 4),
    Column("revs", 7),
    Column("dups", 8),
    Column("payloads", 12),
    Column("quar", 10),
    Column("lag p50 s", 11),
    Column("lag max s", 9),
)
# A gap's bounds come first; its day is in its start.
GAP_COLUMNS = (
    Column("day", 6, "left"),
    Column("start", 0, "left"),
    Column("end", 1, "left"),
    Column("intervals", 5),
    Column("locations", 4),
    Column("missing", 2),
    Column("names", 3, "left", wraps=True),
)
# Narrower than this, a list of names wraps into a tall strip that is hard to read.
MIN_WRAP_WIDTH = 20
# Wider than any table this command prints: a bound for measuring a table's natural width.
UNLIMITED = 100_000


class QualityFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def _number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def _natural_width(columns: Sequence[Column], rows: Sequence[Sequence[str]], index: int) -> int:
    return max(cell_len(columns[index].name), *(cell_len(row[index]) for row in rows))


def _longest_word(rows: Sequence[Sequence[str]], index: int) -> int:
    """The widest run of a column's text that wrapping cannot break (a name without blanks)."""
    return max((cell_len(word) for row in rows for word in row[index].split()), default=0)


def shown_columns(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int | None) -> list[int]:
    """Indexes of the columns to show so that the table is at most `width` characters wide (None: all).

    Each column takes its widest text plus a blank either side and a rule,
    the table one more rule; a wrapping column counts `MIN_WRAP_WIDTH` (or
    its longest name, if longer) when its text is wider. The first-ranked
    column always stays.
    """
    shown = list(range(len(columns)))
    if width is None:
        return shown
    natural = [_natural_width(columns, rows, i) for i in shown]
    for i in shown:
        if columns[i].wraps:
            natural[i] = min(natural[i], max(MIN_WRAP_WIDTH, _longest_word(rows, i)))

    def needed(indexes: list[int]) -> int:
        return 1 + sum(3 + natural[i] for i in indexes)

    while len(shown) > 1 and needed(shown) > width:
        shown.remove(max(shown, key=lambda i: columns[i].rank))
    return shown


def _table(title: str, columns: Sequence[Column], rows: Sequence[Sequence[str]], shown: list[int]) -> Table:
    table = Table(title=escape(title), title_justify="left")
    for i in shown:
        table.add_column(columns[i].name, justify=columns[i].justify, no_wrap=not columns[i].wraps)
    for row in rows:
        table.add_row(*(escape(row[i]) for i in shown))
    return table


def _day_rows(result: MarketQuality) -> list[list[str]]:
    return [
        [
            d.day.isoformat(),
            str(d.hours),
            _number(d.locations),
            _number(d.expected),
            _number(d.present),
            _percent(d.completeness),
            _number(len(d.gaps)),
            _number(d.revisions),
            _number(d.duplicates),
            _number(d.payloads),
            _number(d.quarantined),
            _number(d.lag_median_s, 1),
            _number(d.lag_max_s, 1),
        ]
        for d in result.days
    ]


def _gap_rows(result: MarketQuality) -> list[list[str]]:
    return [
        [
            day.day.isoformat(),
            g.start.strftime("%Y-%m-%d %H:%M"),
            g.end.strftime("%Y-%m-%d %H:%M"),
            _number(g.intervals),
            _number(g.locations),
            _number(g.missing),
            ", ".join(g.names) if g.names else ("" if g.locations == 0 else "(too many to list)"),
        ]
        for day in result.days
        for g in day.gaps
    ]


def _summary_line(result: MarketQuality) -> str:
    s = result.summary
    complete = (
        f"{_percent(s.completeness)} complete ({s.present:,} of {s.expected:,} intervals)"
        if s.expected is not None
        else f"{s.present:,} intervals present (expected n/a: irregular or no data)"
    )
    overlaps = f", {s.overlaps:,} overlapping intervals" if s.overlaps else ""
    lag = (
        f", publication to commit {_number(s.lag_median_s, 1)} s median, {_number(s.lag_max_s, 1)} s max"
        if s.lag_median_s is not None
        else ""
    )
    return (
        f"{escape(s.iso)} {escape(s.dataset)} {escape(s.market or NO_MARKET)}: {complete}, "
        f"{s.gaps:,} gaps on {s.days_with_gaps:,} of {s.days:,} days, {s.revisions:,} revisions, "
        f"{s.duplicates:,} duplicates refused, {s.quarantined + s.quarantined_undated:,} quarantined payloads"
        f"{overlaps}{lag}"
    )


def report_json(report: QualityReport, iso: str | None, market: str | None) -> dict[str, Any]:
    """The report in the shape `GET /v1/quality` answers: query, summary, days, count."""
    days = report.days
    return {
        "query": {
            "iso": iso,
            "dataset": report.dataset,
            "market": market,
            "first_day": report.first_day.isoformat(),
            "end_day": report.end_day.isoformat(),
        },
        "summary": [s.model_dump(mode="json") for s in report.summaries],
        "days": [d.model_dump(mode="json") for d in days],
        "count": len(days),
    }


def quality(
    iso: Annotated[
        str, typer.Option("--iso", help="ISO/RTO, e.g. ERCOT, PJM (any case).", show_default=False)
    ],
    start: Annotated[
        str,
        typer.Option(
            "--start",
            help="First market day (ISO-8601 date, a datetime includes its whole day; or relative such as "
            "today-7d), ISO market time.",
            show_default=False,
        ),
    ],
    end: Annotated[
        str, typer.Option("--end", help="Exclusive end, same forms as --start.", show_default=False)
    ],
    dataset: Annotated[
        Dataset, typer.Option("--dataset", help="Dataset to assess.", case_sensitive=False)
    ] = Dataset.LMP,
    market: Annotated[
        str | None,
        typer.Option("--market", help="Market (load: kind); omit for every market.", show_default=False),
    ] = None,
    fmt: Annotated[
        QualityFormat, typer.Option("--format", help="Rich tables or JSON.", case_sensitive=False)
    ] = QualityFormat.TABLE,
    wide: Annotated[
        bool,
        typer.Option(
            "--wide",
            help="Show every column however narrow the terminal (a pipe or file always gets them all).",
        ),
    ] = False,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    store_url: StoreUrl = DEFAULT_STORE,
) -> None:
    """Data quality per market day: expected vs present intervals, gaps, revisions, duplicates, lag.

    Expected intervals = locations with data in the range x the market day's
    intervals due now (real time: ended; day-ahead: once published, the day
    before); interval length inferred from the data; completeness is the
    covered share of the due time. Gaps are given in UTC; lag is seconds
    from the ISO's publication to our commit.
    """
    try:
        iso_ = resolve_iso(iso, "--iso")
        zone = iso_info(iso_.value).timezone
        lo, hi = _bound("--start", start, zone), _bound("--end", end, zone)
        if hi <= lo:
            raise CliError(
                f"--end ({hi.isoformat()}) must be after --start ({lo.isoformat()}); --end is exclusive"
            )
        first_day, end_day = day_range(zone, lo, hi)
        report, market_name = _assess(store_url, data_dir, iso_.value, dataset, market, first_day, end_day)
    except UnknownName as exc:
        fail(exc.message, exc.hint())
    except CliError as exc:
        fail(exc.message, exc.hint)

    if fmt is QualityFormat.JSON:
        typer.echo(json.dumps(report_json(report, iso_.value, market_name), indent=2))
        return
    if not report.markets:
        console.print(f"No {dataset.value} markets with data for {iso_.value}.")
        return
    width = console.width if console.is_terminal and not wide else None
    left_out: dict[str, set[str]] = {"per day": set(), "gaps": set()}
    for result in report.markets:
        s = result.summary
        interval = f"{s.interval_minutes:g}-min" if s.interval_minutes is not None else "irregular intervals"
        market = f"{s.iso} {s.dataset} {s.market or NO_MARKET}"
        title = f"{market} · {interval} · market days in {zone}"
        left_out["per day"] |= _print_fitted(title, DAY_COLUMNS, _day_rows(result), width)
        gap_rows = _gap_rows(result)
        if gap_rows:
            left_out["gaps"] |= _print_fitted(f"Gaps in {market} (UTC)", GAP_COLUMNS, gap_rows, width)
        console.print(_summary_line(result))
    if any(left_out.values()):
        which = "; ".join(
            f"{', '.join(c.name for c in columns if c.name in left_out[kind])} ({kind})"
            for kind, columns in (("per day", DAY_COLUMNS), ("gaps", GAP_COLUMNS))
            if left_out[kind]
        )
        console.print(f"[dim]Not shown at {width} columns: {escape(which)}. --wide shows every column.[/]")


def _print_fitted(
    title: str, columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int | None
) -> set[str]:
    """Print the table of `rows`, fitted to `width` (None: whole); the names of the columns left out."""
    shown = shown_columns(columns, rows, width)
    table = _table(title, columns, rows, shown)
    if width is not None:
        console.print(table)  # fitted: only its lists of names may need to wrap
        return {c.name for i, c in enumerate(columns) if i not in shown}
    # Whole: measured and printed past the console's width, which would squeeze it.
    natural = Measurement.get(console, console.options.update(max_width=UNLIMITED), table).maximum
    saved = console.width
    console.width = max(saved, natural)
    try:
        console.print(table)
    finally:
        console.width = saved
    return set()


def _bound(option: str, text: str, zone: str) -> datetime:
    try:
        return parse_bound(text, zone)
    except ValueError as exc:
        raise CliError(f"{option}: {exc}") from None


def _assess(
    url: str, data_dir: Path, iso: str, dataset: Dataset, market: str | None, first_day: date, end_day: date
) -> tuple[QualityReport, str | None]:
    spec_ = spec(dataset)
    store = open_cli_store(url, data_dir, create=False)
    try:
        market_name: str | None = None
        if market is not None:
            if spec_.market_column is None:
                raise CliError(f"--market: {dataset.value} has no markets; omit --market")
            what = f"{iso} {dataset.value} {spec_.market_column}"
            known = store.markets(dataset, iso)
            market_name = resolve_names("--market", what, [market.strip()], known, suggest_all=True)[0]
        entries = list(IngestLedger(data_dir).entries(iso=iso, dataset=dataset.value))
        report = quality_report(
            store, dataset, first_day, end_day, isos=[iso], market=market_name, ledger=entries
        )
    except ValueError as exc:
        if isinstance(exc, UnknownName):
            raise
        raise CliError(f"invalid query: {exc}") from None
    finally:
        store.close()
    return report, market_name
