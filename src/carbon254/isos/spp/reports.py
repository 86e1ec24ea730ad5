"""SPP: Marketplace file browser CSVs (LMP by settlement location, reserve MCPs, load). No auth.

Every file is downloaded as `https://portal.spp.org/file-browser-api/download/<folder>?path=<path>`:

| report (file name) | folder, path | dataset | market |
|---|---|---|---|
| `DA-LMP-SL-YYYYMMDD0100.csv` | `da-lmp-by-settlement-location`, `/YYYY/MM/By_Day/` | lmp | DAM |
| `RTBM-LMP-DAILY-SL-YYYYMMDD.csv` | `rtbm-lmp-by-location`, `/YYYY/MM/By_Day/` | lmp | RT5 |
| `RTBM-LMP-SL-YYYYMMDDHHMM[d].csv` | `rtbm-lmp-by-location`, `/YYYY/MM/By_Interval/DD/` | lmp | RT5 |
| `DA-MCP-YYYYMMDD0100.csv` | `da-mcp`, `/YYYY/MM/` | as_price | DAM |
| `RTBM-MCP-DAILY-YYYYMMDD.csv` | `rtbm-mcp`, `/YYYY/MM/By_Day/` | as_price | RT5 |
| `RTBM-MCP-YYYYMMDDHHMM[d].csv` | `rtbm-mcp`, `/YYYY/MM/By_Interval/DD/` | as_price | RT5 |
| `DAILY_HOURLY_LOAD-YYYYMMDD.csv` | `hourly-load`, `/YYYY/` | load | actual |
| `OP-MTLF-YYYYMMDDHH00[d].csv` | `mtlf-vs-actual`, `/YYYY/MM/DD/` | load | forecast (and actual) |

Load targets are named by the load `kind` (`actual`, `forecast`).

Time: `GMTIntervalEnd` (UTC, interval END) is the authority; start = end - the interval length
(5 minutes or one hour). The local `Interval` column repeats its labels in the fall-back hour and
is ignored. Interval files are named by their local (Central) END time and sit in the folder of
their local START date; the second (CST) pass of the repeated hour carries a `d` suffix
(`...0105d.csv`). Hourly load files give `MarketHour`, read (as gridstatus does) as the UTC hour end.

Prices: lmp = MEC + MCC + MLC as SPP publishes them (no sign flip). Location types: names ending
`_HUB` are hubs, SPP's published interface settlement locations are interfaces, every other
settlement location is a node. Header names are matched ignoring case, spaces and underscores,
because SPP's headers drift between files (` Settlement Location`, `Settlement_Location_Name`,
`GMT Interval`).

Fetching the 5-minute data of a day first tries the daily file; when it is not posted (404) it
fetches the day's 276/288/300 interval files one by one, and a missing interval file (404) is a gap,
not a failure.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from carbon254.isos import Iso
from carbon254.isos.spp.settings import SppSettings
from carbon254.markets.archive import is_zip, payload_files
from carbon254.markets.canonical import canonical_table
from carbon254.markets.connector import DownloadTarget, Payload
from carbon254.markets.plaintext import plain_names, string_buffers
from carbon254.markets.report import ParseError, Parser, Report
from carbon254.markets.transport import IsoClient
from carbon254.schema import TIMESTAMP, Dataset, LoadKind, LocationType, spec

if TYPE_CHECKING:
    from carbon254.config import Settings

DOWNLOAD_BASE = "https://portal.spp.org/file-browser-api/download"
CENTRAL = ZoneInfo("America/Chicago")
FIVE_MINUTES = timedelta(minutes=5)
HOUR = timedelta(hours=1)

# SPP's interface settlement locations (gridstatus keeps the same list for RTBM/DA files).
INTERFACES = frozenset(
    {
        "AECI", "ALTW", "AMRN", "BLKW", "CLEC", "DPC", "EDDY", "EES", "ERCOTE", "ERCOTN", "GRE", "LAM345",
        "MCWEST", "MDU", "MEC", "MISO", "NSP", "OTP", "RCEAST", "SCSE", "SGE", "SPA", "SPC",
    }
)  # fmt: skip

# Normalised header name -> canonical role.
_ALIASES = {
    "interval": "interval",
    "gmtintervalend": "end",
    "gmtinterval": "end",
    "settlementlocation": "location",
    "settlementlocationname": "location",
    "pnode": "pnode",
    "pnodename": "pnode",
    "baa": "baa",
    "reservezone": "zone",
    "lmp": "lmp",
    "mlc": "loss",
    "mcc": "congestion",
    "mec": "energy",
    "mtlf": "mtlf",
    "averagedactual": "actual",
    "markethour": "end",
    "controlzonename": "control_zone",
    "loadmw": "mw",
}
_TIME_FORMATS = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y")


def _key(name: str) -> str:
    return re.sub(r"[\s_]", "", name).lower()


# --------------------------------------------------------------------------- reading CSVs


def _csv(data: bytes) -> pl.DataFrame:
    """The payload's CSV (or the CSV inside a zip) as text columns, with headers stripped."""
    frames = []
    for name, body in payload_files(data, re.compile(r"\.csv$", re.IGNORECASE)):
        try:
            frame = pl.read_csv(body, infer_schema=False)
        except pl.exceptions.PolarsError as exc:
            where = f" ({name})" if name else ""
            raise ParseError(f"not a readable CSV{where}: {exc}") from None
        frames.append(frame.rename({c: c.strip() for c in frame.columns}))
    return pl.concat(frames, how="diagonal") if len(frames) > 1 else frames[0]


def _roles(frame: pl.DataFrame, required: tuple[str, ...]) -> pl.DataFrame:
    """`frame` with known columns renamed to their roles; a missing required role raises ParseError."""
    renames: dict[str, str] = {}
    for column in frame.columns:
        role = _ALIASES.get(_key(column))
        if role is not None and role not in renames.values():
            renames[column] = role
    out = frame.rename(renames)
    missing = [r for r in required if r not in out.columns]
    if missing:
        raise ParseError(f"header lacks column(s) for {', '.join(missing)}; header: {frame.columns}")
    return out


def _gmt(frame: pl.DataFrame, column: str = "end") -> pl.Series:
    """A UTC time column in SPP's `MM/DD/YYYY HH:MM:SS` form (or ISO); unparseable -> ParseError."""
    # SPP's own format first, on the unstripped text: trying all five formats on every row was 15% of
    # a daily file's parse. Where it parses it gives what the stripped text would; any miss (another
    # format, stray spaces, a bad value) takes the full path below for the whole column.
    first = frame[column].str.strptime(pl.Datetime("us"), _TIME_FORMATS[0], strict=False)
    if not first.null_count():
        return first.dt.replace_time_zone("UTC")
    raw = frame[column].str.strip_chars()
    parsed = frame.select(
        pl.coalesce([raw.str.strptime(pl.Datetime("us"), f, strict=False) for f in _TIME_FORMATS]).alias("t")
    )["t"]
    bad = parsed.is_null()
    if bad.any():
        row = int(bad.arg_max() or 0)
        raise ParseError(f"line {row + 2}: {column} time {raw[row]!r} is not MM/DD/YYYY HH:MM:SS")
    return parsed.dt.replace_time_zone("UTC")


def _numbers(frame: pl.DataFrame, columns: list[str], *, nullable: bool = False) -> pl.DataFrame:
    """`columns` as Float64; text that is not a number (or a blank, unless allowed) raises ParseError."""
    out = frame.with_columns(pl.col(columns).str.strip_chars().cast(pl.Float64, strict=False))
    if not sum(out[c].null_count() for c in columns):
        return out  # every cell a number: skip the per-column checks (they re-strip each column)
    for c in columns:
        given = frame[c].str.strip_chars().fill_null("") != ""
        bad = out[c].is_null() & given if nullable else out[c].is_null()
        if bad.any():
            row = int(bad.arg_max() or 0)
            raise ParseError(f"line {row + 2}: {c} value {frame[c][row]!r} is not a number")
    return out


# --------------------------------------------------------------------------- parsers


_LMP_ROLES = ("end", "location", "lmp", "loss", "congestion", "energy")
_LMP_NUMBERS = ("lmp", "loss", "congestion", "energy")
# Names a column left unrenamed must not have: it would clash with a role or reach the table as is.
_TAKEN = frozenset(_ALIASES.values()) | frozenset(spec(Dataset.LMP).schema.names)


def _location_type(location: pl.Expr) -> pl.Expr:
    return (
        pl.when(location.str.ends_with("_HUB"))
        .then(pl.lit(LocationType.HUB.value))
        .when(location.is_in(list(INTERFACES)))
        .then(pl.lit(LocationType.INTERFACE.value))
        .otherwise(pl.lit(LocationType.NODE.value))
    )


@dataclass(frozen=True, slots=True)
class _LmpColumns:
    """Where the LMP roles sit in one daily/interval file header (as Polars reads it)."""

    source: dict[str, str]  # role -> column as read
    used: tuple[str, ...]  # the columns read: the roles' and the last
    last: str
    commas: int  # commas per line


@lru_cache(maxsize=32)
def _lmp_columns(header: bytes) -> _LmpColumns | None:
    """The LMP columns of a header line, or None when the header is not one the fast path reads.

    A day's files share a header, so this runs once per layout rather than once per file.
    """
    try:
        names_read = pl.read_csv(header + b"\n", n_rows=0, infer_schema=False).columns
    except pl.exceptions.PolarsError:
        return None
    names = [c.strip() for c in names_read]
    if len(set(names)) != len(names):
        return None
    source: dict[str, str] = {}
    for column, name in zip(names_read, names, strict=True):
        role = _ALIASES.get(_key(name))
        if role is not None and role not in source:
            source[role] = column
        elif name in _TAKEN:
            return None
    if any(r not in source for r in _LMP_ROLES):
        return None
    last = names_read[-1]
    used = (*(source[r] for r in _LMP_ROLES), *(() if last in source.values() else (last,)))
    return _LmpColumns(source, used, last, len(names_read) - 1)


_CHUNK = 1 << 20


def _count_byte(data: bytes, byte: int) -> int:
    """How many times `byte` occurs in `data` (in cache-sized chunks: one 26 MB comparison was 2x
    slower than the count itself)."""
    view = np.frombuffer(data, np.uint8)
    return sum(int(np.count_nonzero(view[i : i + _CHUNK] == byte)) for i in range(0, len(view), _CHUNK))


class _Counter:
    """One thread kept for counting commas beside a large read; made on first use, and afresh in a
    forked child (which inherits the executor but not its thread)."""

    __slots__ = ("_pool",)

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        os.register_at_fork(after_in_child=self.forget)

    def forget(self) -> None:
        self._pool = None

    def submit(self, data: bytes) -> Future[int]:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spp-comma-count")
        return self._pool.submit(_count_byte, data, _COMMA)


_COMMA = ord(",")
# Payloads from this size have their commas counted beside the read (smaller ones inline: handing
# them over would cost more than it saves).
_COUNT_APART = 1 << 22
_COUNTER = _Counter()


_KIND_NAMES = pa.array([LocationType.NODE.value, LocationType.HUB.value, LocationType.INTERFACE.value])


def _period(names: pl.Series) -> int | None:
    """The row count after which `names` repeat in the same order, when every row does; else None."""
    rows = len(names)
    later = names.slice(1).index_of(names[0]) if rows > 1 else None
    if later is None or rows % (later + 1):
        return None
    period = later + 1
    return period if names.slice(period).equals(names.slice(0, rows - period)) else None


def _tile(values: pa.Array, times: int) -> pa.Array:
    """A string array repeated `times` over, built from its buffers (a `take` of every row cost 10x)."""
    starts, raw = string_buffers(values)
    rows, size = len(values), int(starts[-1] - starts[0])
    # In buffers of Arrow's pool, which keeps freed pages for the next file (fresh NumPy arrays of this
    # size are mapped and faulted in anew on every call).
    offsets, data = pa.allocate_buffer(4 * (rows * times + 1)), pa.allocate_buffer(size * times)
    tiled = np.frombuffer(offsets, np.int32)
    np.add(
        (starts[:-1] - starts[0])[None, :],
        (np.arange(times, dtype=np.int32) * size)[:, None],
        out=tiled[:-1].reshape(times, rows),
    )
    tiled[-1] = size * times
    np.frombuffer(data, np.uint8).reshape(times, size)[:] = raw[int(starts[0]) : int(starts[-1])]
    return pa.StringArray.from_buffers(rows * times, offsets, data)


_INTERFACE_SET = pa.array(sorted(INTERFACES))


def _kinds(names: pa.Array) -> pa.Array:
    """Location types of plain names: `*_HUB` hub, SPP's interface names interface, else node."""
    hub = pc.ends_with(names, "_HUB").to_numpy(zero_copy_only=False)
    interface = pc.is_in(names, value_set=_INTERFACE_SET).to_numpy(zero_copy_only=False)
    return _KIND_NAMES.take(pa.array(np.where(hub, 1, np.where(interface, 2, 0)).astype(np.int8)))


def _lmp_fast(data: bytes, market: str, length: timedelta) -> pa.Table | None:
    """The LMP table of a plain, well-formed CSV, read typed; None for anything else.

    Reading every column as text and casting after was 65% of a daily file's parse: here the
    price columns are read as Float64, the times parsed in SPP's one format, and the table built
    in Arrow (the Polars frame and its conversion were a third of the rest). Whatever this path
    does not vouch for (a zip, an odd header, a blank or non-numeric price, another time format,
    an empty or padded location) returns None, and the general path below then gives the same
    rows or the same error as always.
    """
    if is_zip(data) or data.isspace() or not data:
        return None
    newline = data.find(b"\n")
    layout = _lmp_columns(data[: newline if newline >= 0 else len(data)])
    if layout is None:
        return None
    source = layout.source
    # Only the used columns (and the last, so that a short row shows as a null) are read: reading
    # all of them was a third of the time. A projected read does not fail on a row with too many
    # fields, as reading them all does; a comma count matching the column count for every row rules
    # such a row out (a comma inside quotes only adds to the count, a row short of a field leaves the
    # last column null, and quotes are read as the general path reads them). The times
    # are parsed in the same query, on Polars' threads, and a daily file's commas are counted on
    # another thread meanwhile (that was a fifth of the work left on this one).
    counting = _COUNTER.submit(data) if len(data) >= _COUNT_APART else None
    end = pl.col(source["end"]).str.strptime(pl.Datetime("us"), _TIME_FORMATS[0], strict=False)
    query = pl.scan_csv(
        data, schema_overrides={source[r]: pl.Float64 for r in _LMP_NUMBERS}, infer_schema=False
    ).select(end, *(pl.col(c) for c in layout.used if c != source["end"]))
    try:
        rows = query.collect()
    except pl.exceptions.PolarsError:
        return None
    commas = _count_byte(data, _COMMA) if counting is None else counting.result()
    n = rows.height
    if not n or commas != (n + 1) * layout.commas or rows[layout.last].null_count():
        return None
    numbers = [rows[source[r]] for r in _LMP_NUMBERS]
    end_times = rows[source["end"]]
    location = rows[source["location"]]
    if end_times.null_count() or location.null_count() or any(c.null_count() for c in numbers):
        return None
    # A daily file lists the same locations in the same order for every interval: the names of one
    # interval are checked, typed and converted, then repeated.
    period = _period(location)
    once = location.slice(0, period or n).to_arrow().cast(pa.string())
    if not plain_names(once):
        return None  # the general path strips, or names the empty location
    names = once if period is None else _tile(once, n // period)
    kinds = _kinds(once) if period is None else _tile(_kinds(once), n // period)
    ends = _array(TIMESTAMP, end_times.to_numpy().view(np.int64))
    columns = {
        "iso": _repeated(Iso.SPP.value, n),
        "market": _repeated(market, n),
        "location": names,
        "location_type": kinds,
        "interval_start": pc.subtract(ends, pa.scalar(length, _MICROSECONDS)),
        "interval_end": ends,
        **{r: _array(_F64, c.to_numpy()) for r, c in zip(_LMP_NUMBERS, numbers, strict=True)},
    }
    schema = _LMP_SCHEMA
    arrays = [columns[f.name] if f.name in columns else pa.nulls(n, f.type) for f in schema]
    return pa.Table.from_batches([pa.RecordBatch.from_arrays(arrays, schema=schema)], schema=schema)


_LMP_SCHEMA = spec(Dataset.LMP).schema


_F64 = pa.float64()
_MICROSECONDS = pa.duration("us")


def _repeated(value: str, rows: int) -> pa.Array:
    """`rows` copies of `value` as a string array, from its buffers (4x cheaper than `pa.repeat`)."""
    raw = value.encode()
    offsets = pa.allocate_buffer(4 * (rows + 1))
    np.frombuffer(offsets, np.int32)[:] = np.arange(0, len(raw) * (rows + 1), len(raw), dtype=np.int32)
    return pa.StringArray.from_buffers(rows, offsets, pa.py_buffer(raw * rows))


def _array(kind: pa.DataType, values: np.ndarray) -> pa.Array:
    """A contiguous NumPy array without nulls (UTC microseconds, $/MWh) as an Arrow array of `kind`,
    without a copy."""
    values = np.ascontiguousarray(values)
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


def _lmp_parser(market: str, length: timedelta) -> Parser:
    def parse(data: bytes) -> pa.Table:
        """LMP rows ($/MWh) by settlement location; lmp = MEC + MCC + MLC as published (no flip).

        Intervals END at `GMTIntervalEnd` (UTC) and last `length`. Location types: `*_HUB`
        hub, SPP's interface locations interface, else node.
        """
        fast = _lmp_fast(data, market, length)
        if fast is not None:
            return fast
        rows = _numbers(
            _roles(_csv(data), ("end", "location", "lmp", "loss", "congestion", "energy")),
            ["lmp", "loss", "congestion", "energy"],
        )
        end = _gmt(rows)
        location = rows["location"].str.strip_chars()
        frame = rows.with_columns(
            iso=pl.lit(Iso.SPP.value),
            market=pl.lit(market),
            location=location,
            location_type=_location_type(pl.lit(location)),
            interval_start=end - length,
            interval_end=end,
        )
        blank = location.is_null() | (location == "")
        if blank.any():
            raise ParseError(f"line {int(blank.arg_max() or 0) + 2}: Settlement Location is empty")
        return canonical_table(Dataset.LMP, frame)

    return parse


_NOT_PRODUCTS = {"interval", "end", "zone", "baa"}


def _mcp_parser(market: str, length: timedelta) -> Parser:
    def parse(data: bytes) -> pa.Table:
        """Reserve marginal clearing prices ($/MW-h) by reserve zone, one row per product column.

        `region` is the `Reserve Zone`; `product` is SPP's column name (DA: `RegUP`, `RegDN`,
        `RampUP`, `RampDN`, `UncUP`, `Spin`, `Supp`; RTBM: `RegUPService`, `RegDNService`,
        `RegUpMile`, `RegDNMile` and the same reserves). Blank prices are left out. Intervals END
        at `GMTIntervalEnd` (UTC).
        """
        rows = _roles(_csv(data), ("end", "zone"))
        products = [c for c in rows.columns if c not in _NOT_PRODUCTS]
        if not products:
            raise ParseError(f"no product price columns beside the time and zone columns: {rows.columns}")
        rows = _numbers(rows, products, nullable=True)
        end = _gmt(rows)
        frame = (
            rows.with_columns(
                interval_end=end, interval_start=end - length, region=pl.col("zone").str.strip_chars()
            )
            .unpivot(products, index=["interval_start", "interval_end", "region"], variable_name="product")
            .rename({"value": "price"})
            .filter(pl.col("price").is_not_null())
            .with_columns(iso=pl.lit(Iso.SPP.value), market=pl.lit(market))
        )
        return canonical_table(Dataset.AS_PRICE, frame)

    return parse


def parse_mtlf(data: bytes) -> pa.Table:
    """Mid-term load forecast (MW, kind `forecast`) and averaged actual load (kind `actual`) by BAA.

    `zone` is the file's `BAA` (`SPP`, `SWPW`) or `SPP` for files without one. Hours END at
    `GMTIntervalEnd`. The file gives no issue time in its body, so `forecast_issued_at` is
    inferred as the end of the latest hour that already has an actual (the forecast was made
    after it); forecast rows are the hours from then on. Files with no actual at all take the
    first hour's start.
    """
    rows = _roles(_csv(data), ("end", "mtlf", "actual"))
    rows = _numbers(rows, ["mtlf", "actual"], nullable=True)
    end = _gmt(rows)
    frame = rows.with_columns(
        interval_end=end,
        interval_start=end - HOUR,
        zone=pl.col("baa").str.strip_chars().fill_null("SPP") if "baa" in rows.columns else pl.lit("SPP"),
        iso=pl.lit(Iso.SPP.value),
    )
    issued = frame.filter(pl.col("actual").is_not_null())["interval_end"].max()
    if issued is None:
        issued = frame["interval_start"].min()
    actual = frame.filter(pl.col("actual").is_not_null()).with_columns(
        mw=pl.col("actual"), kind=pl.lit(LoadKind.ACTUAL.value)
    )
    forecast = frame.filter(pl.col("mtlf").is_not_null() & (pl.col("interval_start") >= issued)).with_columns(
        mw=pl.col("mtlf"),
        kind=pl.lit(LoadKind.FORECAST.value),
        forecast_issued_at=pl.lit(issued, dtype=pl.Datetime("us", "UTC")),
    )
    return canonical_table(Dataset.LOAD, pl.concat([actual, forecast], how="diagonal"))


def parse_hourly_load(data: bytes) -> pa.Table:
    """Actual hourly load (MW) by control zone from `DAILY_HOURLY_LOAD` files.

    Reads both layouts: the legacy wide one (`MarketHour` then one column per zone, e.g.
    `CSWS`, `KCPL`, `SPS`) and the long one SPP uses since 2026-03-24 (`Market Hour`,
    `Balancing Area Name`, `Control Zone Name`, `Forecast Area Type`, `Load MW`), where `zone`
    is the control zone. `MarketHour` is the hour END in UTC; blank zone cells are left out.
    """
    rows = _roles(_csv(data), ("end",))
    rows = rows.filter(~pl.all_horizontal(pl.all().is_null()))
    if "control_zone" in rows.columns and "mw" in rows.columns:
        long = _numbers(rows, ["mw"]).with_columns(zone=pl.col("control_zone").str.strip_chars())
    else:
        zones = [c for c in rows.columns if c not in ("end", "interval")]
        if not zones:
            raise ParseError(f"no zone load columns beside MarketHour: {rows.columns}")
        long = (
            _numbers(rows, zones, nullable=True)
            .unpivot(zones, index=["end"], variable_name="zone", value_name="mw")
            .filter(pl.col("mw").is_not_null())
        )
    end = _gmt(long)
    frame = long.with_columns(
        interval_end=end,
        interval_start=end - HOUR,
        kind=pl.lit(LoadKind.ACTUAL.value),
        iso=pl.lit(Iso.SPP.value),
    )
    if frame.select(pl.struct("zone", "interval_start").is_duplicated().any()).item():
        raise ParseError("a (zone, hour) appears twice; the file's zone breakdown is not one row per zone")
    return canonical_table(Dataset.LOAD, frame)


# --------------------------------------------------------------------------- reports


def _report(
    name: str, title: str, dataset: Dataset, markets: tuple[str, ...], parse: Parser, pattern: str,
    header: tuple[str, ...], interval: timedelta, cadence: timedelta,
) -> Report:  # fmt: skip
    return Report(
        iso=Iso.SPP,
        name=name,
        title=title,
        dataset=dataset,
        markets=markets,
        parse=parse,
        file_pattern=re.compile(pattern, re.IGNORECASE),
        header=header,
        interval=interval,
        cadence=cadence,
    )


_LMP_HEADER = ("GMTIntervalEnd", "Settlement Location", "LMP", "MLC", "MCC", "MEC")
_DAY = timedelta(days=1)

DA_LMP = _report(
    "DA-LMP-SL", "Day-ahead LMP by settlement location", Dataset.LMP, ("DAM",),
    _lmp_parser("DAM", HOUR), r"^DA-LMP-SL-\d{8}0100\.csv$", _LMP_HEADER, HOUR, _DAY,
)  # fmt: skip
RTBM_LMP = _report(
    "RTBM-LMP-SL", "RTBM 5-minute LMP by settlement location (one interval)", Dataset.LMP, ("RT5",),
    _lmp_parser("RT5", FIVE_MINUTES), r"^RTBM-LMP-SL-\d{12}d?\.csv$", _LMP_HEADER, FIVE_MINUTES, FIVE_MINUTES,
)  # fmt: skip
RTBM_LMP_DAILY = _report(
    "RTBM-LMP-DAILY-SL", "RTBM 5-minute LMP by settlement location (daily file)", Dataset.LMP, ("RT5",),
    _lmp_parser("RT5", FIVE_MINUTES), r"^RTBM-LMP-DAILY-SL-\d{8}\.csv$",
    ("GMT Interval", "Settlement Location Name", "PNODE Name", "LMP"), FIVE_MINUTES, _DAY,
)  # fmt: skip
DA_MCP = _report(
    "DA-MCP", "Day-ahead reserve marginal clearing prices", Dataset.AS_PRICE, ("DAM",),
    # "RegUP," (with its delimiter) tells the DA header from RTBM's "RegUPService".
    _mcp_parser("DAM", HOUR), r"^DA-MCP-\d{8}0100\.csv$", ("GMTIntervalEnd", "Reserve Zone", "RegUP,"),
    HOUR, _DAY,
)  # fmt: skip
RTBM_MCP = _report(
    "RTBM-MCP", "RTBM reserve marginal clearing prices (one interval)", Dataset.AS_PRICE, ("RT5",),
    _mcp_parser("RT5", FIVE_MINUTES), r"^RTBM-MCP-\d{12}d?\.csv$",
    ("GMTIntervalEnd", "Reserve Zone", "RegUPService"), FIVE_MINUTES, FIVE_MINUTES,
)  # fmt: skip
RTBM_MCP_DAILY = _report(
    "RTBM-MCP-DAILY", "RTBM reserve marginal clearing prices (daily file)", Dataset.AS_PRICE, ("RT5",),
    _mcp_parser("RT5", FIVE_MINUTES), r"^RTBM-MCP-DAILY-\d{8}\.csv$", (), FIVE_MINUTES, _DAY,
)  # fmt: skip
HOURLY_LOAD = _report(
    "DAILY_HOURLY_LOAD", "Hourly load by control zone", Dataset.LOAD, (LoadKind.ACTUAL.value,),
    parse_hourly_load, r"^DAILY_HOURLY_LOAD-\d{8}\.csv$", (), HOUR, _DAY,
)  # fmt: skip
MTLF = _report(
    "OP-MTLF", "Mid-term load forecast vs actual", Dataset.LOAD,
    (LoadKind.FORECAST.value, LoadKind.ACTUAL.value), parse_mtlf, r"^OP-MTLF-\d{12}d?\.csv$",
    ("GMTIntervalEnd", "MTLF", "Averaged Actual"), HOUR, HOUR,
)  # fmt: skip

REPORTS: tuple[Report, ...] = (
    DA_LMP,
    RTBM_LMP,
    RTBM_LMP_DAILY,
    DA_MCP,
    RTBM_MCP,
    RTBM_MCP_DAILY,
    HOURLY_LOAD,
    MTLF,
)


# --------------------------------------------------------------------------- download


def market_day_utc(day: date) -> tuple[datetime, datetime]:
    """[start, end) in UTC of a Central market day (23, 24 or 25 hours)."""
    nxt = day + timedelta(days=1)
    return (
        datetime(day.year, day.month, day.day, tzinfo=CENTRAL).astimezone(UTC),
        datetime(nxt.year, nxt.month, nxt.day, tzinfo=CENTRAL).astimezone(UTC),
    )


def local_stamp(instant: datetime, minutes: bool = True) -> str:
    """SPP's file-name stamp of a UTC instant: local `YYYYMMDDHHMM`, `d` for the repeated (CST) hour."""
    local = instant.astimezone(CENTRAL)
    return f"{local:%Y%m%d%H%M}" + ("d" if local.fold else "")


def url(folder: str, path: str) -> str:
    """The file-browser download URL of `path` in `folder`."""
    return f"{DOWNLOAD_BASE}/{folder}?path={path}"


def interval_paths(day: date, by: str, prefix: str) -> list[str]:
    """Paths of the 5-minute interval files of a Central market day, in time order.

    File `prefix-<local end>.csv` sits in `/YYYY/MM/<by>/DD/` of its interval's local START date.
    """
    start, end = market_day_utc(day)
    out = []
    t = start + FIVE_MINUTES
    while t <= end:
        folder = (t - FIVE_MINUTES).astimezone(CENTRAL)
        out.append(f"/{folder:%Y/%m}/{by}/{folder:%d}/{prefix}-{local_stamp(t)}.csv")
        t += FIVE_MINUTES
    return out


def mtlf_paths(day: date) -> list[str]:
    """Paths of the hourly mid-term load forecasts issued during a Central market day."""
    start, end = market_day_utc(day)
    out = []
    t = start
    while t < end:
        local = t.astimezone(CENTRAL)
        out.append(f"/{local:%Y/%m/%d}/OP-MTLF-{local_stamp(t)}.csv")
        t += HOUR
    return out


@dataclass(frozen=True, slots=True)
class _FiveMinute:
    folder: str
    daily: Report
    daily_prefix: str
    interval: Report
    interval_prefix: str


_RT5 = {
    Dataset.LMP: _FiveMinute(
        "rtbm-lmp-by-location", RTBM_LMP_DAILY, "RTBM-LMP-DAILY-SL", RTBM_LMP, "RTBM-LMP-SL"
    ),
    Dataset.AS_PRICE: _FiveMinute("rtbm-mcp", RTBM_MCP_DAILY, "RTBM-MCP-DAILY", RTBM_MCP, "RTBM-MCP"),
}


TARGETS: tuple[DownloadTarget, ...] = (
    DownloadTarget(Dataset.LMP, "DAM", DA_LMP),
    DownloadTarget(Dataset.LMP, "RT5", RTBM_LMP_DAILY),
    DownloadTarget(Dataset.AS_PRICE, "DAM", DA_MCP),
    DownloadTarget(Dataset.AS_PRICE, "RT5", RTBM_MCP_DAILY),
    DownloadTarget(Dataset.LOAD, LoadKind.ACTUAL.value, HOURLY_LOAD),
    DownloadTarget(Dataset.LOAD, LoadKind.FORECAST.value, MTLF),
)


class SppConnector:
    """Downloads SPP Marketplace files for one Central market day."""

    iso = Iso.SPP

    def __init__(self, settings: SppSettings | None = None) -> None:
        self.settings = settings or SppSettings()

    @property
    def targets(self) -> tuple[DownloadTarget, ...]:
        """Every (dataset, market) this connector downloads."""
        return TARGETS

    def fetch(self, client: IsoClient, dataset: Dataset, market: str, day: date) -> Iterator[Payload]:
        """Payloads holding Central market `day` for (dataset, market); missing files are skipped."""
        ymd = f"{day:%Y%m%d}"
        if (dataset, market) == (Dataset.LMP, "DAM"):
            yield from self._one(
                client,
                "da-lmp-by-settlement-location",
                f"/{day:%Y/%m}/By_Day/DA-LMP-SL-{ymd}0100.csv",
                DA_LMP,
            )
        elif (dataset, market) == (Dataset.AS_PRICE, "DAM"):
            yield from self._one(client, "da-mcp", f"/{day:%Y/%m}/DA-MCP-{ymd}0100.csv", DA_MCP)
        elif dataset in _RT5 and market == "RT5":
            yield from self._five_minute(client, _RT5[dataset], day)
        elif (dataset, market) == (Dataset.LOAD, LoadKind.ACTUAL.value):
            yield from self._one(client, "hourly-load", f"/{day:%Y}/DAILY_HOURLY_LOAD-{ymd}.csv", HOURLY_LOAD)
        elif (dataset, market) == (Dataset.LOAD, LoadKind.FORECAST.value):
            start, _ = market_day_utc(day)
            for n, path in enumerate(mtlf_paths(day)):
                yield from self._one(client, "mtlf-vs-actual", path, MTLF, published_at=start + n * HOUR)
        else:
            raise ValueError(f"SPP has no download for {dataset.value}/{market}")

    def _one(
        self, client: IsoClient, folder: str, path: str, report: Report, published_at: datetime | None = None
    ) -> Iterator[Payload]:
        resp = client.get_published(url(folder, path))
        if resp is None:
            return  # not posted (yet): nothing for that file
        yield Payload(path.rsplit("/", 1)[-1], resp.content, report, resp.url, published_at)

    def _five_minute(self, client: IsoClient, spec: _FiveMinute, day: date) -> Iterator[Payload]:
        daily = list(
            self._one(
                client, spec.folder, f"/{day:%Y/%m}/By_Day/{spec.daily_prefix}-{day:%Y%m%d}.csv", spec.daily
            )
        )
        if daily or not self.settings.interval_fallback:
            yield from daily
            return
        for path in interval_paths(day, "By_Interval", spec.interval_prefix):
            yield from self._one(client, spec.folder, path, spec.interval)


def connector(settings: Settings) -> SppConnector:
    """The SPP connector with the settings of `settings.spp` (`CARBON254_SPP_*`)."""
    return SppConnector(settings.spp)
