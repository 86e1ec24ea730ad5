"""MISO: daily market-report CSVs, the weekly 5-minute archive and the real-time broker feeds (no auth).

Reports and store markets:

- `da_expost_lmp` -> `lmp` `DAM`; `da_exante_lmp` -> `lmp` `DAM_EXANTE` (MISO's
  ex-ante day-ahead prices, published before the ex-post ones; kept as their
  own market because both are final for their purpose);
- `rt_lmp_prelim` and `rt_lmp_final` -> `lmp` `RTH`. The preliminary file is
  superseded by the final one for the same hours: the fetcher yields the
  prelim payload first and the final one after it (with the server's
  `Last-Modified` as `published_at` when given), so the final prices land as
  the later revision;
- `5MIN_LMP` (weekly zip, ex-post 5-minute) and the real-time reporter's
  `rollingmarketday` CSV (today's intervals) -> `lmp` `RT5`;
- `asm_expost_damcp` / `asm_exante_damcp` / `asm_rtmcp_final` -> `as_price`
  `DAM` / `DAM_EXANTE` / `RTH`, by reserve zone and product;
- the data broker's `gettotalload` JSON -> `load` zone `MISO`, kind `actual`
  (5-minute) and `forecast` (hourly medium-term forecast). The feed shows
  the current market day only, so a fetch for any other day yields nothing.
  The Excel `df_al` reports are not read (no Excel reader in the runtime).

Time: MISO runs its markets on Eastern Standard Time all year (`Etc/GMT+5`):
every day has 24 hours and `HE n` ends at n:00 EST, so DST days need no
special case. The 5-minute `MKTHOUR_EST` and `INTERVAL` stamps start their
interval.

Components: MISO publishes LMP, MCC and MLC with the common sign convention;
energy = LMP - MCC - MLC.

No credentials; the only setting is `CARBON254_MISO_URL`. `connector(settings)` uses the real clock.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import polars as pl
import pyarrow as pa

from carbon254.isos import ISOS, Iso
from carbon254.markets.archive import payload_files
from carbon254.markets.canonical import canonical_table
from carbon254.markets.connector import DownloadTarget, Payload
from carbon254.markets.localtime import hour_ending_to_utc, local_to_utc
from carbon254.markets.report import ParseError, Report
from carbon254.markets.transport import IsoClient
from carbon254.schema import Dataset, LoadKind, LocationType

if TYPE_CHECKING:
    from carbon254.config import Settings

TZ = ISOS[Iso.MISO].timezone  # Etc/GMT+5: EST all year
REPORTS_URL = "https://docs.misoenergy.org/marketreports"
REPORTER_URL = "https://api.misoenergy.org/MISORTWDBIReporter/Reporter.asmx"
BROKER_URL = "https://api.misoenergy.org/MISORTWDDataBroker/DataBrokerServices.asmx"

HOURS = [f"HE {h}" for h in range(1, 25)]
LMP_HEADER = ["Node", "Type", "Value", *HOURS]
FIVE_MIN_HEADER = ("MKTHOUR_EST", "PNODENAME", "LMP", "CON_LMP", "LOSS_LMP")
ROLLING_HEADER = ("INTERVAL", "CPNODE", "LMP", "MLC", "MCC")
LOCATION_TYPES = {
    "Hub": LocationType.HUB.value,
    "Loadzone": LocationType.ZONE.value,
    "Interface": LocationType.INTERFACE.value,
    "Gennode": LocationType.GEN.value,
}
FIVE_MINUTES = timedelta(minutes=5)
ONE_HOUR = timedelta(hours=1)
_DATE = re.compile(r"(\d{2})/(\d{2})/(\d{4})")
_MAX_FOOTER_LINES = 10


# --------------------------------------------------------------------------- reading


def _text(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(f"{what}: not UTF-8 text ({exc})") from None


def _fields(line: str) -> list[str]:
    return [f.strip().strip('"').strip() for f in line.split(",")]


def _block(
    lines: list[str], header: int, names: list[str], what: str, stop_at_blank: bool = False
) -> pl.DataFrame:
    """The rows under `lines[header]` as strings named `names`, without the report's footer."""
    return _read_block(_block_text(lines, header, what, stop_at_blank), header, names, what)


def _block_text(lines: list[str], header: int, what: str, stop_at_blank: bool = False) -> str:
    """The text of the rows under `lines[header]`, without the report's footer.

    The footer is the run of trailing lines (at most ten) whose field count
    differs from the header's; with `stop_at_blank` the block ends at the
    first blank line instead (ASM files hold a second table after one).
    A short or long row inside the block fails the file, and so does a
    trailing line that starts like a data row (a node name) but is short:
    that is a file cut off in transit, not a footer, and taking it for one
    would silently drop the nodes after the cut.
    """
    width = lines[header].count(",")
    end = len(lines)
    if stop_at_blank:
        end = next((i for i in range(header + 1, len(lines)) if not lines[i].strip()), len(lines))
    else:
        floor = max(header + 1, end - _MAX_FOOTER_LINES)
        while end > floor and lines[end - 1].count(",") != width:
            line = lines[end - 1]
            if "," in line and _fields(line)[0]:
                raise ParseError(f"{what}: line {end} is cut short ({line[:60]!r}); the file is incomplete")
            end -= 1
    body = "\n".join(lines[header + 1 : end])
    if not body.strip():
        raise ParseError(f"{what}: no data rows under the header (line {header + 1})")
    return body


def _read_block(body: str, header: int, names: list[str], what: str) -> pl.DataFrame:
    """`body` (from `_block_text`) read as stripped strings named `names`."""
    try:
        frame = pl.read_csv(
            io.StringIO(body), has_header=False, new_columns=names, infer_schema=False, quote_char='"'
        )
    except pl.exceptions.PolarsError as exc:
        raise ParseError(f"{what}: a row below line {header + 1} has the wrong shape ({exc})") from None
    if frame.width != len(names):
        raise ParseError(f"{what}: rows have {frame.width} fields, the header {len(names)}")
    return frame.with_columns(pl.all().str.strip_chars())


def _find_header(lines: list[str], test: Callable[[list[str]], bool], what: str, expect: str) -> int:
    for i, line in enumerate(lines[:40]):
        if test(_fields(line)):
            return i
    raise ParseError(f"{what}: no header line like {expect!r} in the first 40 lines")


def _numbers(frame: pl.DataFrame, columns: list[str], what: str, first_line: int) -> pl.DataFrame:
    """`columns` as Float64 (thousands separators allowed); a blank or bad cell fails the file."""
    parsed = frame.with_columns(
        pl.col(c).str.replace_all(",", "").cast(pl.Float64, strict=False) for c in columns
    )
    if not sum(parsed[c].null_count() for c in columns):
        return parsed  # all numbers: no per-column search for the first bad cell
    for c in columns:
        bad = parsed[c].is_null()
        if bad.any():
            row = int(bad.arg_max() or 0)
            raise ParseError(
                f"{what}: line {first_line + row}: {c!r} is {frame[c][row]!r}, expected a number"
            )
    return parsed


def _market_day(lines: list[str], header: int, what: str) -> date:
    for line in lines[:header]:
        found = _DATE.search(line)
        if found:
            month, day, year = (int(g) for g in found.groups())
            return date(year, month, day)
    raise ParseError(f"{what}: no MM/DD/YYYY market date in the lines above the header")


def _wide_hours(frame: pl.DataFrame, index: list[str], what: str, first_line: int) -> pl.DataFrame:
    """HE 1..HE 24 columns melted to one row per hour with `he` (1..24) and `price`."""
    numeric = _numbers(frame, HOURS, what, first_line)
    return numeric.unpivot(index=index, on=HOURS, variable_name="he", value_name="price").with_columns(
        pl.col("he").str.strip_prefix("HE ").cast(pl.Int64)
    )


def _hour_bounds(day: date, he: pl.Series) -> tuple[pl.Series, pl.Series]:
    days = pl.Series([day]).extend_constant(day, len(he) - 1) if len(he) else pl.Series([], dtype=pl.Date)
    return hour_ending_to_utc(days, he, TZ)


# --------------------------------------------------------------------------- LMP parsers


_LMP_SCHEMA = {"Node": pl.String, "Type": pl.String, "Value": pl.String, **dict.fromkeys(HOURS, pl.Float64)}
_KINDS = ("LMP", "MCC", "MLC")


def _hourly_lmp_fast(body: str, day: date, market: str) -> pa.Table | None:
    """The table of a well-formed block (three complete rows per node), read typed; else None.

    Reading the 24 hour columns as text, then casting and null-checking each, unpivoting and
    pivoting back, and sorting the result were 80% of the parse. Here the hours are read as
    Float64 and the LMP, MCC and MLC rows, in the same node order, are laid side by side. Any
    block this does not vouch for (a blank or non-numeric price, an unknown or missing Value
    row, a repeated node, rows out of step) returns None, and the general path then gives the
    same rows or the same error as always.
    """
    try:
        frame = pl.read_csv(body.encode(), has_header=False, schema=_LMP_SCHEMA, quote_char='"')
    except pl.exceptions.PolarsError:
        return None
    if sum(frame.null_count().row(0)):
        return None
    frame = frame.with_columns(pl.col("Node", "Type", "Value").str.strip_chars())
    parts = [frame.filter(pl.col("Value") == kind) for kind in _KINDS]
    lmp, mcc, mlc = parts
    if (
        3 * lmp.height != frame.height
        or any(p.height != lmp.height for p in parts)
        or not all(p["Node"].equals(lmp["Node"]) and p["Type"].equals(lmp["Type"]) for p in parts)
        or lmp["Node"].is_duplicated().any()
    ):
        return None
    # Nodes in name order within each hour: the order the general path's sort gives.
    order = lmp["Node"].arg_sort()
    lmp, mcc, mlc = (p.select(HOURS)[order] for p in parts)
    nodes = lmp.height
    # HE n of one date: the 24 hours once, then repeated for every node.
    start, end = _hour_bounds(day, pl.Series("he", range(1, 25)))
    hour = pl.int_range(0, 24 * nodes, eager=True) // nodes
    node = pl.int_range(0, 24 * nodes, eager=True) % nodes
    names = parts[0]["Node"].gather(order)
    kinds = (
        parts[0]["Type"]
        .gather(order)
        .replace_strict(LOCATION_TYPES, default=LocationType.NODE.value, return_dtype=pl.String)
    )
    values = {k: pl.concat([p[h] for h in HOURS]) for k, p in zip(_KINDS, (lmp, mcc, mlc), strict=True)}
    out = pl.DataFrame(
        {
            "iso": Iso.MISO.value,
            "market": market,
            "location": names.gather(node),
            "location_type": kinds.gather(node),
            "interval_start": start.gather(hour),
            "interval_end": end.gather(hour),
            "lmp": values["LMP"],
            "energy": (values["LMP"] - values["MCC"] - values["MLC"]).round(6),
            "congestion": values["MCC"],
            "loss": values["MLC"],
        }
    )
    return canonical_table(Dataset.LMP, out)


def _hourly_lmp(data: bytes, market: str) -> pa.Table:
    what = f"MISO {market} LMP"
    lines = _text(data, what).splitlines()
    header = _find_header(lines, lambda f: f[:3] == ["Node", "Type", "Value"], what, "Node,Type,Value,HE 1")
    got = _fields(lines[header])
    if got != LMP_HEADER:
        raise ParseError(f"{what}: header is {got}, expected Node,Type,Value,HE 1..HE 24")
    day = _market_day(lines, header, what)
    body = _block_text(lines, header, what)
    fast = _hourly_lmp_fast(body, day, market)
    if fast is not None:
        return fast
    frame = _read_block(body, header, LMP_HEADER, what)
    kinds = frame["Value"]
    unknown = ~kinds.is_in(["LMP", "MCC", "MLC"])
    if unknown.any():
        row = int(unknown.arg_max() or 0)
        raise ParseError(f"{what}: line {header + 2 + row}: Value {kinds[row]!r} is not LMP, MCC or MLC")
    dup = frame.select(pl.struct("Node", "Value").is_duplicated()).to_series()
    if dup.any():
        row = int(dup.arg_max() or 0)
        raise ParseError(f"{what}: node {frame['Node'][row]!r} has two {kinds[row]} rows")
    long = _wide_hours(frame, ["Node", "Type", "Value"], what, header + 2)
    wide = long.pivot(on="Value", index=["Node", "Type", "he"], values="price")
    missing = [k for k in ("LMP", "MCC", "MLC") if k not in wide.columns]
    if missing:
        raise ParseError(f"{what}: no {missing} rows in the file")
    incomplete = wide.select(pl.any_horizontal(pl.col("LMP", "MCC", "MLC").is_null())).to_series()
    if incomplete.any():
        row = int(incomplete.arg_max() or 0)
        raise ParseError(f"{what}: node {wide['Node'][row]!r} lacks one of its LMP/MCC/MLC rows")
    start, end = _hour_bounds(day, wide["he"])
    out = pl.DataFrame(
        {
            "iso": Iso.MISO.value,
            "market": market,
            "location": wide["Node"],
            "location_type": wide["Type"].replace_strict(
                LOCATION_TYPES, default=LocationType.NODE.value, return_dtype=pl.String
            ),
            "interval_start": start,
            "interval_end": end,
            "lmp": wide["LMP"],
            "energy": (wide["LMP"] - wide["MCC"] - wide["MLC"]).round(6),
            "congestion": wide["MCC"],
            "loss": wide["MLC"],
        }
    ).sort("interval_start", "location")
    return canonical_table(Dataset.LMP, out)


def _hourly_lmp_parser(market: str) -> Callable[[bytes], pa.Table]:
    def parse(data: bytes) -> pa.Table:
        """MISO hourly LMP market report (`Node,Type,Value,HE 1..HE 24`) -> canonical `lmp` ($/MWh, UTC).

        Four preamble lines (title, MM/DD/YYYY market date, blank, the EST
        note), the header, three rows per node (`Value` LMP, MCC, MLC) and
        footer lines. HE n ends at n:00 EST (UTC-5 all year, 24 hours every
        day). congestion = MCC, loss = MLC, energy = LMP - MCC - MLC. `Type`
        Hub/Loadzone/Interface/Gennode -> hub/zone/interface/gen, else node.
        """
        return _hourly_lmp(data, market)

    return parse


def _node_kind(names: pl.Series) -> pl.Series:
    # The 5-minute files carry no node type; only hub names say what they are.
    return (
        pl.select(pl.when(names.str.ends_with(".HUB")).then(pl.lit(LocationType.HUB.value)))
        .to_series()
        .cast(pl.String)
    )


def _five_min_frame(
    start: pl.Series, node: pl.Series, values: pl.DataFrame, cols: tuple[str, str, str]
) -> pl.DataFrame:
    lmp, mcc, mlc = (values[c] for c in cols)
    return pl.DataFrame(
        {
            "iso": Iso.MISO.value,
            "market": "RT5",
            "location": node,
            "location_type": _node_kind(node),
            "interval_start": start,
            "interval_end": start + FIVE_MINUTES,
            "lmp": lmp,
            "energy": (lmp - mcc - mlc).round(6),
            "congestion": mcc,
            "loss": mlc,
        }
    )


def _est_times(raw: pl.Series, formats: tuple[str, ...], what: str, first_line: int) -> pl.Series:
    text = raw.str.strip_chars()
    naive = pl.select(
        pl.coalesce([text.str.strptime(pl.Datetime("us"), f, strict=False) for f in formats])
    ).to_series()
    bad = naive.is_null()
    if bad.any():
        row = int(bad.arg_max() or 0)
        raise ParseError(f"{what}: line {first_line + row}: time {raw[row]!r} is not a {formats[0]} time")
    return local_to_utc(naive, TZ, what=what)


def _check_unique(frame: pl.DataFrame, what: str) -> pl.DataFrame:
    dup = frame.select(pl.struct("location", "interval_start").is_duplicated()).to_series()
    if dup.any():
        row = int(dup.arg_max() or 0)
        raise ParseError(
            f"{what}: {frame['location'][row]!r} has two rows for {frame['interval_start'][row]}"
        )
    return frame


def _five_min_member(data: bytes, what: str) -> pl.DataFrame:
    lines = _text(data, what).splitlines()
    header = _find_header(lines, lambda f: f[:1] == ["MKTHOUR_EST"], what, ",".join(FIVE_MIN_HEADER))
    names = _fields(lines[header])
    missing = [c for c in FIVE_MIN_HEADER if c not in names]
    if missing:
        raise ParseError(f"{what}: header lacks {missing}; it has {names}")
    frame = _block(lines, header, names, what)
    values = _numbers(frame, ["LMP", "CON_LMP", "LOSS_LMP"], what, header + 2)
    start = _est_times(frame["MKTHOUR_EST"], ("%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S"), what, header + 2)
    return _check_unique(
        _five_min_frame(start, frame["PNODENAME"], values, ("LMP", "CON_LMP", "LOSS_LMP")), what
    )


def parse_five_min_lmp(data: bytes) -> pa.Table:
    """MISO weekly `<YYYYMMDD>_5MIN_LMP.zip` (ex-post 5-minute LMP) -> canonical `lmp` RT5 ($/MWh, UTC).

    Each CSV member has preamble lines, a `MKTHOUR_EST,PNODENAME,LMP,
    CON_LMP,LOSS_LMP` header and footer lines. `MKTHOUR_EST` starts the
    5-minute interval in EST. congestion = CON_LMP, loss = LOSS_LMP,
    energy = LMP - CON_LMP - LOSS_LMP. Hubs (`*.HUB`) are typed hub; other
    nodes are left untyped (the file does not say).
    """
    members = payload_files(data, re.compile(r"\.csv$", re.IGNORECASE))
    frames = [_five_min_member(body, f"MISO 5MIN_LMP {name}".strip()) for name, body in members]
    return canonical_table(Dataset.LMP, pl.concat(frames).sort("interval_start", "location"))


def parse_rolling_lmp(data: bytes) -> pa.Table:
    """MISO reporter `rollingmarketday` CSV (`INTERVAL,CPNODE,LMP,MLC,MCC`) -> `lmp` RT5 ($/MWh, UTC).

    `INTERVAL` starts the 5-minute interval in EST (ISO `YYYY-MM-DDTHH:MM:SS`
    or `MM/DD/YYYY HH:MM[:SS]`). congestion = MCC, loss = MLC, energy =
    LMP - MCC - MLC. Hubs are typed hub; other nodes are left untyped.
    """
    what = "MISO rollingmarketday"
    lines = _text(data, what).splitlines()
    header = _find_header(lines, lambda f: f[:1] == ["INTERVAL"], what, ",".join(ROLLING_HEADER))
    names = _fields(lines[header])
    missing = [c for c in ROLLING_HEADER if c not in names]
    if missing:
        raise ParseError(f"{what}: header lacks {missing}; it has {names}")
    frame = _block(lines, header, names, what)
    values = _numbers(frame, ["LMP", "MLC", "MCC"], what, header + 2)
    formats = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M")
    start = _est_times(frame["INTERVAL"], formats, what, header + 2)
    out = _five_min_frame(start, frame["CPNODE"], values, ("LMP", "MCC", "MLC"))
    return canonical_table(Dataset.LMP, _check_unique(out, what).sort("interval_start", "location"))


# --------------------------------------------------------------------------- ASM prices


def _asm(data: bytes, market: str) -> pa.Table:
    what = f"MISO {market} ASM MCP"
    lines = _text(data, what).splitlines()
    header = _find_header(lines, lambda f: len(f) > 3 and f[2] == "MCP Type", what, ",,MCP Type,HE 1..HE 24")
    got = _fields(lines[header])
    if got[3:] != HOURS:
        raise ParseError(f"{what}: header hours are {got[3:]}, expected HE 1..HE 24")
    day = _market_day(lines, header, what)
    frame = _block(lines, header, ["region", "aux", "product", *HOURS], what, stop_at_blank=True)
    blank = (frame["region"].fill_null("") == "") | (frame["product"].fill_null("") == "")
    if blank.any():
        row = int(blank.arg_max() or 0)
        raise ParseError(f"{what}: line {header + 2 + row}: zone or MCP Type is blank")
    dup = frame.select(pl.struct("region", "product").is_duplicated()).to_series()
    if dup.any():
        row = int(dup.arg_max() or 0)
        raise ParseError(f"{what}: {frame['region'][row]!r} {frame['product'][row]} appears twice")
    long = _wide_hours(frame.drop("aux"), ["region", "product"], what, header + 2)
    start, end = _hour_bounds(day, long["he"])
    out = long.select("region", "product", "price").with_columns(
        iso=pl.lit(Iso.MISO.value), market=pl.lit(market), interval_start=start, interval_end=end
    )
    return canonical_table(Dataset.AS_PRICE, out.sort("interval_start", "region", "product"))


def _asm_parser(market: str) -> Callable[[bytes], pa.Table]:
    def parse(data: bytes) -> pa.Table:
        """MISO ASM market clearing prices by reserve zone -> canonical `as_price` ($/MW-h, UTC).

        Preamble (title, a line with the MM/DD/YYYY market date and the EST
        note), then the zonal table `,,MCP Type, HE 1..HE 24`: one row per
        reserve zone (first column, e.g. `MISO Wide`, `Zone 1`) and MCP type
        (product, e.g. GENREGMCP, GENSPINMCP). The table ends at the first
        blank line; the per-Pnode table after it repeats the zonal prices
        and is not read. HE n ends at n:00 EST.
        """
        return _asm(data, market)

    return parse


# --------------------------------------------------------------------------- load


_REFID = re.compile(r"(\d{1,2}-[A-Za-z]{3}-\d{4}) - Interval (\d{1,2}:\d{2}) EST")


def _records(info: dict[str, object], key: str, inner: str, what: str) -> pl.DataFrame:
    items = info.get(key)
    if not isinstance(items, list) or not items:
        raise ParseError(f"{what}: LoadInfo.{key} is missing or empty")
    try:
        frame = pl.DataFrame({"w": items}).unnest("w")
        return frame.unnest(inner).with_columns(pl.all().cast(pl.String))
    except (pl.exceptions.PolarsError, TypeError, ValueError) as exc:
        raise ParseError(
            f"{what}: LoadInfo.{key} entries are not {{{inner!r}: {{...}}}} objects ({exc})"
        ) from None


def _column(frame: pl.DataFrame, names: tuple[str, ...], what: str) -> pl.Series:
    for n in names:
        if n in frame.columns:
            return frame[n]
    raise ParseError(f"{what}: none of the fields {names} found; got {frame.columns}")


def parse_total_load(data: bytes) -> pa.Table:
    """MISO data broker `gettotalload` JSON -> canonical `load` for zone MISO (MW, UTC).

    `LoadInfo.RefId` ("10-Sep-2026 - Interval 09:25 EST") dates the market
    day and stamps the forecast vintage. `FiveMinTotalLoad` entries
    `{"Load": {"Time": "HH:MM", "Value": ...}}` are 5-minute actuals whose
    time starts the interval (EST); `MediumTermLoadForecast` entries
    `{"Forecast": {"HourEnding": n, "LoadForecast": ...}}` are hourly
    forecasts (hour ending n, EST) issued at the RefId time. Values may
    carry thousands separators.
    """
    what = "MISO gettotalload"
    try:
        doc = json.loads(_text(data, what))
        info = doc["LoadInfo"]
        ref = str(info["RefId"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ParseError(f"{what}: not a LoadInfo document with a RefId ({exc!r})") from None
    found = _REFID.search(ref)
    if not found:
        raise ParseError(f"{what}: RefId {ref!r} is not like '10-Sep-2026 - Interval 09:25 EST'")
    day = datetime.strptime(found.group(1), "%d-%b-%Y").date()
    issued = datetime.strptime(f"{found.group(1)} {found.group(2)}", "%d-%b-%Y %H:%M")
    issued_utc = issued.replace(tzinfo=ZoneInfo(TZ)).astimezone(UTC)

    actual = _records(info, "FiveMinTotalLoad", "Load", what)
    mw = _numbers(actual, ["Value"], what, 1)["Value"]
    clock = pl.select(
        pl.lit(datetime(day.year, day.month, day.day))
        + actual["Time"].str.strptime(pl.Time, "%H:%M", strict=False).cast(pl.Duration("us"))
    ).to_series()
    if clock.is_null().any():
        raise ParseError(f"{what}: a FiveMinTotalLoad Time is not HH:MM")
    a_start = local_to_utc(clock, TZ, what=what)
    actuals = pl.DataFrame(
        {
            "kind": LoadKind.ACTUAL.value,
            "interval_start": a_start,
            "interval_end": a_start + FIVE_MINUTES,
            "mw": mw,
        }
    ).with_columns(forecast_issued_at=pl.lit(None, dtype=pl.Datetime("us", "UTC")))

    forecast = _records(info, "MediumTermLoadForecast", "Forecast", what)
    he = _column(forecast, ("HourEnding", "HourEndEST", "Hour_End"), what)
    values = forecast.with_columns(
        he.alias("he"), _column(forecast, ("LoadForecast", "Load_Forecast"), what).alias("mw")
    )
    values = _numbers(values, ["he", "mw"], what, 1)
    f_start, f_end = _hour_bounds(day, values["he"].cast(pl.Int64))
    forecasts = pl.DataFrame(
        {
            "kind": LoadKind.FORECAST.value,
            "interval_start": f_start,
            "interval_end": f_end,
            "mw": values["mw"],
        }
    ).with_columns(forecast_issued_at=pl.lit(issued_utc, dtype=pl.Datetime("us", "UTC")))

    out = pl.concat([actuals, forecasts]).with_columns(iso=pl.lit(Iso.MISO.value), zone=pl.lit("MISO"))
    return canonical_table(Dataset.LOAD, out)


# --------------------------------------------------------------------------- reports


def _report(
    name: str,
    title: str,
    dataset: Dataset,
    markets: tuple[str, ...],
    parse: Callable[[bytes], pa.Table],
    pattern: str,
    header: tuple[str, ...],
    interval: timedelta,
    cadence: timedelta,
) -> Report:
    return Report(
        iso=Iso.MISO,
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


DAY = timedelta(days=1)
DA_EXPOST = _report(
    "da_expost_lmp", "DA ex-post hourly LMP", Dataset.LMP, ("DAM",), _hourly_lmp_parser("DAM"),
    r"^\d{8}_da_expost_lmp\.csv$", ("Day Ahead Market ExPost LMPs", "Node,Type,Value"), ONE_HOUR, DAY,
)  # fmt: skip
DA_EXANTE = _report(
    "da_exante_lmp", "DA ex-ante hourly LMP", Dataset.LMP, ("DAM_EXANTE",), _hourly_lmp_parser("DAM_EXANTE"),
    r"^\d{8}_da_exante_lmp\.csv$", ("Day Ahead Market ExAnte LMPs", "Node,Type,Value"), ONE_HOUR, DAY,
)  # fmt: skip
RT_FINAL = _report(
    "rt_lmp_final", "RT hourly final LMP", Dataset.LMP, ("RTH",), _hourly_lmp_parser("RTH"),
    r"^\d{8}_rt_lmp_final\.csv$", (), ONE_HOUR, DAY,
)  # fmt: skip
RT_PRELIM = _report(
    "rt_lmp_prelim", "RT hourly preliminary LMP", Dataset.LMP, ("RTH",), _hourly_lmp_parser("RTH"),
    r"^\d{8}_rt_lmp_prelim\.csv$", (), ONE_HOUR, DAY,
)  # fmt: skip
FIVE_MIN = _report(
    "5MIN_LMP", "RT 5-minute ex-post LMP (weekly)", Dataset.LMP, ("RT5",), parse_five_min_lmp,
    r"^\d{8}_5MIN_LMP\.(zip|csv)$", ("MKTHOUR_EST", "PNODENAME", "CON_LMP", "LOSS_LMP"), FIVE_MINUTES,
    timedelta(days=7),
)  # fmt: skip
ROLLING = _report(
    "rollingmarketday", "RT 5-minute LMP, current market day", Dataset.LMP, ("RT5",), parse_rolling_lmp,
    r"rollingmarketday", ("INTERVAL", "CPNODE", "MLC", "MCC"), FIVE_MINUTES, FIVE_MINUTES,
)  # fmt: skip
ASM_EXPOST = _report(
    "asm_expost_damcp", "DA ex-post ASM MCPs", Dataset.AS_PRICE, ("DAM",), _asm_parser("DAM"),
    r"^\d{8}_asm_expost_damcp\.csv$", (), ONE_HOUR, DAY,
)  # fmt: skip
ASM_EXANTE = _report(
    "asm_exante_damcp", "DA ex-ante ASM MCPs", Dataset.AS_PRICE, ("DAM_EXANTE",), _asm_parser("DAM_EXANTE"),
    r"^\d{8}_asm_exante_damcp\.csv$", (), ONE_HOUR, DAY,
)  # fmt: skip
ASM_RT_FINAL = _report(
    "asm_rtmcp_final", "RT final ASM MCPs", Dataset.AS_PRICE, ("RTH",), _asm_parser("RTH"),
    r"^\d{8}_asm_rtmcp_final\.csv$", (), ONE_HOUR, DAY,
)  # fmt: skip
TOTAL_LOAD = _report(
    "gettotalload", "total load, actual and forecast", Dataset.LOAD,
    (LoadKind.ACTUAL.value, LoadKind.FORECAST.value), parse_total_load, r"gettotalload",
    ("LoadInfo", "FiveMinTotalLoad", "MediumTermLoadForecast"), FIVE_MINUTES, FIVE_MINUTES,
)  # fmt: skip

REPORTS: tuple[Report, ...] = (
    DA_EXPOST, DA_EXANTE, RT_FINAL, RT_PRELIM, FIVE_MIN, ROLLING, ASM_EXPOST, ASM_EXANTE, ASM_RT_FINAL,
    TOTAL_LOAD,
)  # fmt: skip


# --------------------------------------------------------------------------- download


def _daily(report: Report, day: date) -> list[str]:
    return [f"{REPORTS_URL}/{day:%Y%m%d}_{report.name}.csv"]


def weekly_file_day(day: date) -> date:
    """The date in the name of the weekly 5-minute file holding `day`: its week's Monday plus 14 days."""
    return day - timedelta(days=day.weekday()) + timedelta(days=14)


# The targets served by one daily file each.
_DAILY: dict[tuple[Dataset, str], Report] = {
    (Dataset.LMP, "DAM"): DA_EXPOST,
    (Dataset.LMP, "DAM_EXANTE"): DA_EXANTE,
    (Dataset.AS_PRICE, "DAM"): ASM_EXPOST,
    (Dataset.AS_PRICE, "DAM_EXANTE"): ASM_EXANTE,
    (Dataset.AS_PRICE, "RTH"): ASM_RT_FINAL,
}

TARGETS: tuple[DownloadTarget, ...] = (
    *(DownloadTarget(ds, market, report) for (ds, market), report in _DAILY.items()),
    DownloadTarget(Dataset.LMP, "RTH", RT_FINAL),
    DownloadTarget(Dataset.LMP, "RT5", FIVE_MIN),
    DownloadTarget(Dataset.LOAD, LoadKind.ACTUAL.value, TOTAL_LOAD),
    DownloadTarget(Dataset.LOAD, LoadKind.FORECAST.value, TOTAL_LOAD),
)


class MisoConnector:
    """Downloads MISO market reports and real-time feeds for one market day (EST)."""

    iso = Iso.MISO

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._clock = clock

    @property
    def targets(self) -> tuple[DownloadTarget, ...]:
        """Every (dataset, market) MISO offers here."""
        return TARGETS

    def _today(self) -> date:
        return self._clock().astimezone(ZoneInfo(TZ)).date()

    def fetch(self, client: IsoClient, dataset: Dataset, market: str, day: date) -> Iterator[Payload]:
        """Payloads holding MISO market day `day` (EST) for (dataset, market); nothing when unpublished."""
        key = (Dataset(dataset), market)
        if key in _DAILY:
            report = _DAILY[key]
            yield from self._files(client, report, _daily(report, day))
        elif key == (Dataset.LMP, "RTH"):
            # Prelim first, final second: the final prices become the later revision.
            yield from self._files(client, RT_PRELIM, _daily(RT_PRELIM, day))
            yield from self._files(client, RT_FINAL, _daily(RT_FINAL, day))
        elif key == (Dataset.LMP, "RT5"):
            yield from self._five_minute(client, day)
        elif key in ((Dataset.LOAD, LoadKind.ACTUAL.value), (Dataset.LOAD, LoadKind.FORECAST.value)):
            if day == self._today():
                url = f"{BROKER_URL}?messageType=gettotalload&returnType=json"
                yield from self._files(client, TOTAL_LOAD, [url], name=f"{day:%Y%m%d}_gettotalload.json")
        else:
            raise ValueError(f"MISO has no download for {dataset}/{market}")

    def _five_minute(self, client: IsoClient, day: date) -> Iterator[Payload]:
        if day == self._today():
            url = f"{REPORTER_URL}?messageType=rollingmarketday&returnType=csv"
            yield from self._files(client, ROLLING, [url], name=f"{day:%Y%m%d}_rollingmarketday.csv")
            return
        url = f"{REPORTS_URL}/{weekly_file_day(day):%Y%m%d}_5MIN_LMP.zip"
        yield from self._files(client, FIVE_MIN, [url])

    @staticmethod
    def _files(
        client: IsoClient, report: Report, urls: list[str], name: str | None = None
    ) -> Iterator[Payload]:
        for url in urls:
            resp = client.get_published(url)
            if resp is None:
                continue
            file_name = name or resp.filename() or url.rsplit("/", 1)[-1]
            yield Payload(file_name, resp.content, report, url, resp.last_modified())


def connector(settings: Settings) -> MisoConnector:
    """The MISO connector; MISO's only setting, its URL, is the client's (`CARBON254_MISO_URL`)."""
    return MisoConnector()
