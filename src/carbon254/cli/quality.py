"""`carbon254 quality`: completeness, gaps, revisions, duplicates and ingest lag per market day.

Dates are the ISO's market days (its local calendar, 23 or 25 hours on DST
days); `--start`/`--end` parse like `carbon254 query`'s, read in the ISO's
market time, `--end` exclusive. `--format json` prints what `GET /v1/quality`
answers.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from carbon254.cli.console import CliError, console, fail
from carbon254.cli.options import DEFAULT_DATA_DIR, DEFAULT_STORE, DataDir, StoreUrl
from carbon254.cli.output import print_table
from carbon254.cli.stores import open_cli_store
from carbon254.ingest.ledger import IngestLedger
from carbon254.isos import iso_info
from carbon254.names import UnknownName, resolve_iso, resolve_names
from carbon254.quality import MarketQuality, QualityReport, day_range, quality_report
from carbon254.schema import Dataset, spec
from carbon254.timeseries import parse_bound

NO_MARKET = "-"
# Day table headers: revisions, duplicates refused, payloads written, quarantined, lag p50/max (s).
DAY_COLUMNS = (
    "day",
    "hours",
    "locations",
    "expected",
    "present",
    "complete",
    "gaps",
    "revs",
    "dups",
    "payloads",
    "quar",
    "lag p50 s",
    "lag max s",
)


class QualityFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def _number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def _days_table(result: MarketQuality, zone: str) -> Table:
    s = result.summary
    interval = f"{s.interval_minutes:g}-min" if s.interval_minutes is not None else "irregular intervals"
    title = f"{s.iso} {s.dataset} {s.market or NO_MARKET} · {interval} · market days in {zone}"
    table = Table(title=escape(title), title_justify="left")
    for name in DAY_COLUMNS:
        table.add_column(name, justify="left" if name == "day" else "right", no_wrap=True)
    for d in result.days:
        table.add_row(
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
        )
    return table


def _gaps_table(result: MarketQuality) -> Table | None:
    rows = [(d.day, g) for d in result.days for g in d.gaps]
    if not rows:
        return None
    s = result.summary
    table = Table(
        title=escape(f"Gaps in {s.iso} {s.dataset} {s.market or NO_MARKET} (UTC)"), title_justify="left"
    )
    for name in ("day", "start", "end", "intervals", "locations", "missing", "names"):
        numeric = name in ("intervals", "locations", "missing")
        table.add_column(name, justify="right" if numeric else "left", no_wrap=name != "names")
    for day, g in rows:
        table.add_row(
            day.isoformat(),
            g.start.strftime("%Y-%m-%d %H:%M"),
            g.end.strftime("%Y-%m-%d %H:%M"),
            _number(g.intervals),
            _number(g.locations),
            _number(g.missing),
            escape(", ".join(g.names)) if g.names else ("" if g.locations == 0 else "(too many to list)"),
        )
    return table


def _summary_line(result: MarketQuality) -> str:
    s = result.summary
    complete = (
        f"{_percent(s.completeness)} complete ({s.present:,} of {s.expected:,} intervals)"
        if s.expected is not None
        else f"{s.present:,} intervals present (expected n/a: irregular or no data)"
    )
    overlaps = f", {s.overlaps:,} overlapping intervals" if s.overlaps else ""
    return (
        f"{escape(s.iso)} {escape(s.dataset)} {escape(s.market or NO_MARKET)}: {complete}, "
        f"{s.gaps:,} gaps on {s.days_with_gaps:,} of {s.days:,} days, {s.revisions:,} revisions, "
        f"{s.duplicates:,} duplicates refused, {s.quarantined + s.quarantined_undated:,} quarantined payloads"
        f"{overlaps}"
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
    for result in report.markets:
        print_table(console, _days_table(result, zone))
        gaps = _gaps_table(result)
        if gaps is not None:
            print_table(console, gaps)
        console.print(_summary_line(result))


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
