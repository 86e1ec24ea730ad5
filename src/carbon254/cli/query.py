"""`carbon254 query`: read one dataset, ISO and market from the store to the terminal or a file.

Options parse exactly as the service's query parameters (`timeseries.parse_bound`
and `resolve_tz`): dates or ISO-8601 datetimes, read in `--tz` unless they
carry an offset, `--end` exclusive. Unknown ISOs, markets and locations are
answered with the closest names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import pyarrow.compute as pc
import typer

from carbon254.application.catalog import check_published, served_markets
from carbon254.application.errors import ApiError
from carbon254.cli.console import CliError, console, fail
from carbon254.cli.names import BadList, split_list
from carbon254.cli.options import (
    DEFAULT_DATA_DIR,
    DEFAULT_STORE,
    AsOfOption,
    BlockOption,
    DataDir,
    DatasetOption,
    EndOption,
    IsoOption,
    LocationsOption,
    MarketOption,
    ResampleOption,
    StartOption,
    StoreUrl,
    TzOption,
)
from carbon254.cli.output import is_stdout, output_format, print_table, rich_table, write_table
from carbon254.cli.stores import open_cli_store
from carbon254.isos import Iso
from carbon254.names import UnknownName, resolve_iso, resolve_names
from carbon254.schema import Dataset, DatasetSpec, spec
from carbon254.store import Block, Resample, Store
from carbon254.store.base import any_simulated
from carbon254.timeseries import parse_bound, resolve_tz

# Columns that repeat on every row or are bookkeeping; left out of the terminal table (not of files).
_HIDDEN_IN_TABLE = ("iso", "location_type", "published_at", "ingested_at")


def _instant(option: str, text: str, tz: str | None) -> datetime:
    try:
        return parse_bound(text, tz)
    except ValueError as exc:
        raise CliError(f"{option}: {exc}") from None


def _market(store: Store, spec_: DatasetSpec, iso: Iso, text: str | None) -> str | None:
    try:
        check_published(store, spec_.name, iso)
    except ApiError as exc:
        raise CliError(f"--iso: {exc.message}") from None
    if spec_.market_column is None:
        if text is not None:
            raise CliError(f"--market: {spec_.name.value} has no markets; omit --market")
        return None
    if not store.markets(spec_.name, iso.value):
        raise CliError(
            f"no {spec_.name.value} data for {iso.value} in the store",
            hint="Load some with `carbon254 simulate`, `carbon254 ingest`, or run `carbon254 demo`.",
        )
    if text is None:
        return None
    what = f"{iso.value} {spec_.name.value} {spec_.market_column}"
    served = served_markets(store, spec_.name, iso)
    return resolve_names("--market", what, [text.strip()], served, suggest_all=True)[0]


def _display_columns(table: pa.Table, spec_: DatasetSpec, market: str | None) -> list[str]:
    hidden = set(_HIDDEN_IN_TABLE) | {spec_.end_column}
    if market is not None and spec_.market_column is not None:
        hidden.add(spec_.market_column)
    return [c for c in table.column_names if c not in hidden]


def query(
    iso: IsoOption,
    start: StartOption,
    end: EndOption,
    dataset: DatasetOption = Dataset.LMP,
    market: MarketOption = None,
    locations: LocationsOption = None,
    tz: TzOption = None,
    resample: ResampleOption = None,
    block: BlockOption = None,
    as_of: AsOfOption = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write every row to this .csv or .parquet file instead of printing a table; - writes CSV "
            "to standard output.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Rows shown in the terminal table.", min=0)] = 50,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    store_url: StoreUrl = DEFAULT_STORE,
) -> None:
    """Query stored prices, load or adders: latest versions, or as known at --as-of.

    Prices are $/MWh (LMP, ORDC adders), $/MW-h (ancillary) or $/MW-day
    (capacity); load is MW. Times are half-open [start, end).
    """
    try:
        request = parse_request(iso, start, end, dataset, market, locations, tz, resample, block, as_of)
        _check_output(output)
        table, market_name, simulated = read_query(store_url, data_dir, request)
    except UnknownName as exc:
        fail(exc.message, exc.hint())
    except BadList as exc:
        fail(str(exc))
    except CliError as exc:
        fail(exc.message, exc.hint)

    label = " ".join(p for p in (request.iso.value, market_name or "", dataset.value) if p)
    unit, zone = spec(dataset).unit, request.tz or "UTC"
    if output is not None:
        try:
            write_table(table, output)
        except OSError as exc:
            fail(f"--output: cannot write {output} ({exc.strerror or exc})")
        if not is_stdout(output):
            console.print(f"Wrote {table.num_rows:,} rows of {label} ({unit}, times {zone}) to {output}")
        return
    if table.num_rows == 0:
        console.print(f"No {label} rows between {request.start.isoformat()} and {request.end.isoformat()}.")
        return
    title = f"{label} ({unit}) · times {zone}" + (" · simulated data" if simulated else "")
    columns = _display_columns(table, spec(dataset), market_name)
    print_table(console, rich_table(table, columns, limit, title))
    shown = min(limit, table.num_rows)
    console.print(
        f"{table.num_rows:,} rows in all; showing {shown:,}. "
        "Use --output FILE.csv or FILE.parquet to save every row."
        if shown < table.num_rows
        else f"{table.num_rows:,} rows."
    )


@dataclass(frozen=True, slots=True)
class QueryRequest:
    """A parsed query: bounds and `as_of` UTC-aware, `tz` an IANA name (None: UTC), names as typed."""

    dataset: Dataset
    iso: Iso
    market: str | None
    locations: list[str] | None
    start: datetime
    end: datetime
    as_of: datetime | None
    tz: str | None
    resample: Resample | None
    block: Block | None


def parse_request(
    iso: str,
    start: str,
    end: str,
    dataset: Dataset,
    market: str | None,
    locations: str | None,
    tz: str | None,
    resample: Resample | None,
    block: Block | None,
    as_of: str | None,
) -> QueryRequest:
    """The query the options describe, parsed as the service parses its parameters.

    Raises CliError, UnknownName (the ISO) or BadList, each naming the option.
    """
    iso_ = resolve_iso(iso, "--iso")
    try:
        tz_name = resolve_tz(tz, iso_.value) if tz is not None and tz.strip() else None
    except ValueError as exc:
        raise CliError(f"--tz: {exc}") from None
    lo = _instant("--start", start, tz_name)
    hi = _instant("--end", end, tz_name)
    if hi <= lo:
        raise CliError(
            f"--end ({hi.isoformat()}) must be after --start ({lo.isoformat()}); --end is exclusive"
        )
    names = split_list("--locations", locations)
    if names is not None and spec(dataset).location_column is None:
        raise CliError(f"--locations: {dataset.value} has no locations; omit --locations")
    return QueryRequest(
        dataset=dataset,
        iso=iso_,
        market=market,
        locations=names,
        start=lo,
        end=hi,
        as_of=_instant("--as-of", as_of, tz_name) if as_of is not None else None,
        tz=tz_name,
        resample=resample,
        block=block,
    )


def _check_output(output: Path | None) -> None:
    if output is None:
        return
    try:
        output_format(output)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if not is_stdout(output) and not output.parent.is_dir():
        raise CliError(f"--output: directory {output.parent} does not exist")


@dataclass(frozen=True, slots=True)
class StoredNames:
    """A query's names as the store holds them: the market, and LMP locations in the catalog's spelling.

    Other datasets' names stay as typed (they have no catalog); `catalog` is
    the ISO's LMP location catalog (None for other datasets).
    """

    market: str | None
    locations: list[str] | None
    catalog: pa.Table | None


def stored_names(store: Store, request: QueryRequest) -> StoredNames:
    """Resolve the request's market and LMP locations against the store; UnknownName or CliError if absent."""
    spec_ = spec(request.dataset)
    market = _market(store, spec_, request.iso, request.market)
    catalog = store.locations(iso=request.iso.value) if request.dataset is Dataset.LMP else None
    names = request.locations
    if names is not None and catalog is not None:
        what = f"{request.iso.value} location(s)"
        names = resolve_names("--locations", what, names, catalog.column("location"))
    return StoredNames(market, names, catalog)


def read_query(url: str, data_dir: Path, request: QueryRequest) -> tuple[pa.Table, str | None, bool]:
    """The rows asked for, the market name as stored, and whether any row is simulated.

    Raises UnknownName for a name the store does not hold (regions and zones:
    none of the window's rows), CliError for a query that cannot run.
    """
    spec_ = spec(request.dataset)
    lmp = request.dataset is Dataset.LMP
    store = open_cli_store(url, data_dir, create=False)
    try:
        found = stored_names(store, request)
        market, names, catalog = found.market, found.locations, found.catalog
        try:
            table = store.read(
                request.dataset,
                request.iso.value,
                market,
                names if lmp else None,
                request.start,
                request.end,
                as_of=request.as_of,
                tz=request.tz,
                resample=request.resample,
                block=request.block,
            )
        except ValueError as exc:
            raise CliError(f"invalid query: {exc}") from None
    finally:
        store.close()
    if names is not None and not lmp and spec_.location_column is not None:
        # Regions and zones have no catalog: check them against the rows of the window.
        column = table.column(spec_.location_column)
        present = sorted(pc.unique(column).to_pylist())
        held = f"with {request.dataset.value} data in this window"
        what = f"{request.iso.value} {spec_.location_column}(s) {held}"
        chosen = resolve_names("--locations", what, names, present)
        table = table.filter(pc.is_in(column, value_set=pa.array(chosen, pa.string())))
    return table, market, catalog is not None and any_simulated(catalog, table.column("location"))
