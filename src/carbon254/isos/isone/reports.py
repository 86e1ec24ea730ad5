"""ISO New England: ISO Express CSV reports (LMPs, system load) and Web Services JSON (DA LMP, load forecast).

Reports and where they land:

- `WW_DALMP_ISO_<YYYYMMDD>.csv` (day-ahead hourly LMP) -> `lmp` market `DAM`;
- `lmp_rt_prelim_<YYYYMMDD>.csv` and `lmp_rt_final_<YYYYMMDD>.csv` (real-time hourly) -> `lmp` market
  `RTH`. The final file revises the preliminary one: `fetch` yields both, preliminary first, with
  `published_at` taken from each file's "Report generated" comment, so the final values are the
  latest version of each row;
- `lmp_5min_<YYYYMMDD>_<HH-HH>.csv` (real-time 5-minute preliminary, six four-hour files a day) ->
  `lmp` market `RT5`;
- `hourlysystemdemand` (real-time hourly system load) -> `load` kind `actual`, zone `NEPOOL AREA`;
- Web Services `hourlylmp/da/final/day/<YYYYMMDD>` (JSON) -> `lmp` market `DAM`, the same prices as
  the day-ahead CSV for callers with a Web Services account;
- Web Services `hourlyloadforecast/all/day/<YYYYMMDD>` (JSON, every forecast vintage) -> `load` kind
  `forecast`, zone `NEPOOL AREA`, `forecast_issued_at` = the forecast's `CreationDate`.

ISO Express CSV layout: every line is quoted and starts with a record type: "C" comment, "H" header
(the first "H" line names the fields, the second gives their types), "D" data, "T" trailer. A line of
any other type, or a "D" line with the wrong number of fields, fails the whole file.

Time: Eastern prevailing time. Hourly files label hours ending "01".."24"; the fall-back day repeats
hour ending 2 as "02X" (the second, EST, 01:00-02:00) and the spring-forward day skips one label. The
5-minute files give the interval's start as "Local Time" without a date (the date comes from the
file's "Report for"/"Filename" comment) and repeat 01:00-01:55 on the fall-back day, first EDT then
EST, in file order. Web Services times carry their UTC offset.

Components: ISO-NE publishes LMP = energy + congestion + loss, the canonical sign; nothing is flipped.

Locations: names starting `.H.` are hubs, `.Z.` load zones, `.I.` external interfaces, the rest
nodes. The 5-minute files give only the numeric Location ID: the hub (4000) and the eight load zones
(4001-4008) are stored under their names, interfaces (4010-4017) and every other location under the
ID itself (which therefore differs from the node's name in the hourly reports).

Settings: ISO Express needs no account but a session cookie, so `fetch` first loads a report page and
then asks for the CSV in the same session. Web Services need HTTP Basic credentials from
`CARBON254_ISONE_USERNAME` / `CARBON254_ISONE_PASSWORD` (only the load-forecast download uses them).
"""

from __future__ import annotations

import base64
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import TYPE_CHECKING

import polars as pl
import pyarrow as pa

from carbon254.isos import ISOS, Iso
from carbon254.isos.isone.settings import IsoneSettings
from carbon254.markets.archive import payload_files
from carbon254.markets.canonical import canonical_table
from carbon254.markets.connector import DownloadTarget, Payload
from carbon254.markets.localtime import hour_ending_to_utc, local_to_utc, repeat_order
from carbon254.markets.report import ParseError, Parser, Report
from carbon254.markets.transport import FetchError, IsoClient
from carbon254.schema import Dataset, LoadKind, LocationType, spec

if TYPE_CHECKING:
    from carbon254.config import Settings

TZ = ISOS[Iso.ISONE].timezone
EXPRESS = "https://www.iso-ne.com"
WEBSERVICES = "https://webservices.iso-ne.com/api/v1.1"
# Any ISO Express report page hands out the session cookie the CSV downloads require.
LANDING_PAGE = f"{EXPRESS}/isoexpress/web/reports/pricing/-/tree/lmps-da-hourly"
SYSTEM_ZONE = "NEPOOL AREA"
FIVE_MINUTE_BLOCKS = ("00-04", "04-08", "08-12", "12-16", "16-20", "20-24")
_RECORD_TYPES = ("C", "H", "D", "T")
_FIXED_IDS = {
    "4000": ".H.INTERNAL_HUB",
    "4001": ".Z.MAINE",
    "4002": ".Z.NEWHAMPSHIRE",
    "4003": ".Z.VERMONT",
    "4004": ".Z.CONNECTICUT",
    "4005": ".Z.RHODEISLAND",
    "4006": ".Z.SEMASS",
    "4007": ".Z.WCMASS",
    "4008": ".Z.NEMASSBOST",
}
_INTERFACE_IDS = tuple(str(i) for i in range(4010, 4018))


# --- ISO Express CSV ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Express:
    """One ISO Express CSV: its "D" rows as strings under the "H" names, and its comment lines."""

    rows: pl.DataFrame
    comments: tuple[str, ...]


def _header_line(text: bytes) -> list[str]:
    match = re.search(rb'^"?H"?,[^\r\n]*', text, re.MULTILINE)
    if match is None:
        raise ParseError('no "H" header line: not an ISO Express CSV report')
    names = next(csv.reader(io.StringIO(match.group(0).decode("utf-8", "replace"))))
    return [n.strip() for n in names[1:]]


def _read_express_file(text: bytes) -> _Express:
    names = _header_line(text)
    if len(set(names)) != len(names):
        raise ParseError(f"the header repeats a field name: {names}")
    schema = pl.Schema({"_record": pl.String, **dict.fromkeys(names, pl.String)})
    try:
        frame = pl.read_csv(text, has_header=False, schema=schema, missing_columns="insert")
    except pl.exceptions.PolarsError as exc:
        raise ParseError(f"a line has more fields than the header's {len(names)} ({exc})") from None
    record = frame["_record"].str.strip_chars()
    unknown = ~record.is_in(_RECORD_TYPES)
    if unknown.any():
        line = int(unknown.arg_max() or 0) + 1
        raise ParseError(f"line {line}: record type {record[line - 1]!r} is not C, H, D or T")
    data = frame.filter(record == "D")
    short = data.select(pl.any_horizontal(pl.col(names).is_null())).to_series()
    if short.any():
        line = int((record == "D").arg_true()[int(short.arg_max() or 0)]) + 1
        raise ParseError(f"line {line}: a data line with fewer than the header's {len(names)} fields")
    comments = frame.filter(record == "C").select(pl.concat_str(names[:1], ignore_nulls=True)).to_series()
    return _Express(data.drop("_record"), tuple(comments.to_list()))


def _read_express(data: bytes) -> _Express:
    """Every ISO Express CSV in the payload (bare or zipped), stacked."""
    parts = [_read_express_file(body) for _, body in payload_files(data)]
    try:
        rows = pl.concat([p.rows for p in parts], how="vertical")
    except pl.exceptions.PolarsError as exc:
        raise ParseError(f"the zip's CSV members have different fields ({exc})") from None
    return _Express(rows, tuple(c for p in parts for c in p.comments))


def _column(frame: pl.DataFrame, names: tuple[str, ...], what: str) -> pl.Series:
    for name in names:
        if name in frame.columns:
            return frame[name]
    raise ParseError(
        f"no {what} field (expected one of {', '.join(names)}; found {', '.join(frame.columns)})"
    )


def _numbers(values: pl.Series, what: str) -> pl.Series:
    parsed = values.str.strip_chars().str.replace_all(",", "").cast(pl.Float64, strict=False)
    bad = parsed.is_null()
    if bad.any():
        row = int(bad.arg_max() or 0)
        raise ParseError(f"data row {row + 1}: {what} {values[row]!r} is not a number")
    return parsed


def _dates(values: pl.Series) -> pl.Series:
    parsed = values.str.strip_chars().str.to_date("%m/%d/%Y", strict=False)
    bad = parsed.is_null()
    if bad.any():
        row = int(bad.arg_max() or 0)
        raise ParseError(f"data row {row + 1}: date {values[row]!r} is not MM/DD/YYYY")
    return parsed


def _hour_ending(frame: pl.DataFrame) -> tuple[pl.Series, pl.Series]:
    """(start, end) UTC of each row's market `Date` and `Hour Ending` ("01".."24", "02X" repeated)."""
    day = _dates(_column(frame, ("Date", "Local Date"), "date"))
    label = _column(frame, ("Hour Ending", "HE"), "hour ending").str.strip_chars()
    repeated = label.str.ends_with("X")
    hours = label.str.strip_suffix("X").cast(pl.Int64, strict=False)
    bad = hours.is_null() | (repeated & (hours != 2))
    if bad.any():
        row = int(bad.arg_max() or 0)
        raise ParseError(f"data row {row + 1}: hour ending {label[row]!r} is not 01..24 or 02X")
    return hour_ending_to_utc(day, hours, TZ, second_occurrence=repeated)


def _location_type(location: pl.Expr) -> pl.Expr:
    return (
        pl.when(location.str.starts_with(".H."))
        .then(pl.lit(LocationType.HUB.value))
        .when(location.str.starts_with(".Z."))
        .then(pl.lit(LocationType.ZONE.value))
        .when(location.str.starts_with(".I."))
        .then(pl.lit(LocationType.INTERFACE.value))
        .otherwise(pl.lit(LocationType.NODE.value))
    )


def _lmp_table(
    frame: pl.DataFrame, market: str, location: pl.Series, start: pl.Series, end: pl.Series
) -> pa.Table:
    """Canonical `lmp` rows from an ISO-NE price frame (LMP and components already named as ISO-NE does)."""
    out = pl.DataFrame(
        {
            "iso": pl.repeat(Iso.ISONE.value, frame.height, eager=True),
            "market": pl.repeat(market, frame.height, eager=True),
            "location": location.str.strip_chars(),
            "interval_start": start,
            "interval_end": end,
            "lmp": _numbers(_column(frame, ("Locational Marginal Price", "LMP"), "LMP"), "LMP"),
            "energy": _numbers(_column(frame, ("Energy Component",), "energy"), "energy component"),
            "congestion": _numbers(_column(frame, ("Congestion Component",), "congestion"), "congestion"),
            "loss": _numbers(
                _column(frame, ("Marginal Loss Component", "Loss Component"), "loss"), "loss component"
            ),
        }
    ).with_columns(_location_type(pl.col("location")).alias("location_type"))
    dup = out.select(pl.struct("location", "interval_start").is_duplicated()).to_series()
    if dup.any():
        row = out.row(int(dup.arg_max() or 0), named=True)
        raise ParseError(f"{row['location']} at {row['interval_start']} appears twice")
    return canonical_table(Dataset.LMP, out.sort(["location", "interval_start"]))


def _parse_hourly_lmp(data: bytes, market: str) -> pa.Table:
    express = _read_express(data)
    if express.rows.height == 0:
        return spec(Dataset.LMP).schema.empty_table()
    start, end = _hour_ending(express.rows)
    location = _column(express.rows, ("Location Name", "Location"), "location name")
    return _lmp_table(express.rows, market, location, start, end)


def parse_da_lmp(data: bytes) -> pa.Table:
    """ISO Express `WW_DALMP_ISO_<date>.csv` (day-ahead hourly LMP, $/MWh) -> `lmp` rows of market `DAM`."""
    return _parse_hourly_lmp(data, "DAM")


def parse_rt_lmp_final(data: bytes) -> pa.Table:
    """ISO Express `lmp_rt_final_<date>.csv` (real-time hourly final LMP, $/MWh) -> `lmp` market `RTH`."""
    return _parse_hourly_lmp(data, "RTH")


def parse_rt_lmp_prelim(data: bytes) -> pa.Table:
    """ISO Express `lmp_rt_prelim_<date>.csv` (real-time hourly prelim LMP, $/MWh) -> `lmp` market `RTH`."""
    return _parse_hourly_lmp(data, "RTH")


_REPORT_DAY = (
    re.compile(r"Report for:\s*(\d{2}/\d{2}/\d{4})"),
    re.compile(r"Filename:\s*\S*?(\d{8})"),
)


def _report_day(comments: tuple[str, ...]) -> date:
    """The operating day named in a report's comments ("Report for: MM/DD/YYYY" or the file name)."""
    for comment in comments:
        for pattern in _REPORT_DAY:
            match = pattern.search(comment)
            if match is None:
                continue
            text = match.group(1)
            fmt = "%m/%d/%Y" if "/" in text else "%Y%m%d"
            return datetime.strptime(text, fmt).date()
    raise ParseError('no operating day: expected a "Report for:" or "Filename:" comment line')


def parse_rt_lmp_5min(data: bytes) -> pa.Table:
    """ISO Express `lmp_5min_<date>_<block>.csv` (real-time 5-minute prelim LMP, $/MWh) -> `lmp` `RT5`."""
    express = _read_express(data)
    frame = express.rows
    if frame.height == 0:
        return spec(Dataset.LMP).schema.empty_table()
    day = _report_day(express.comments)
    clock = _column(frame, ("Local Time",), "local time").str.strip_chars()
    # Times come as HH:MM or HH:MM:SS on the report's day.
    padded = pl.select(
        pl.when(pl.lit(clock).str.len_chars() == 5).then(pl.lit(clock) + ":00").otherwise(clock)
    )
    naive = (pl.lit(f"{day:%Y-%m-%d} ") + padded.to_series()).alias("t")
    local = pl.select(naive.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="us")).to_series()
    if local.is_null().any():
        row = int(local.is_null().arg_max() or 0)
        raise ParseError(f"data row {row + 1}: local time {clock[row]!r} is not HH:MM[:SS]")
    ids = _column(frame, ("Location ID",), "location ID").str.strip_chars()
    second = repeat_order(pl.DataFrame({"id": ids, "t": local}), "t", ["id"])
    start = local_to_utc(local, TZ, second_occurrence=second, what="local time")
    location = ids.replace(_FIXED_IDS)
    table = _lmp_table(frame, "RT5", location, start, start + timedelta(minutes=5))
    # Interfaces keep their numeric ID as location but are still interfaces.
    out = pl.from_arrow(table)
    assert isinstance(out, pl.DataFrame)
    out = out.with_columns(
        pl.when(pl.col("location").is_in(_INTERFACE_IDS))
        .then(pl.lit(LocationType.INTERFACE.value))
        .otherwise(pl.col("location_type"))
        .alias("location_type")
    )
    return canonical_table(Dataset.LMP, out)


def parse_hourly_system_demand(data: bytes) -> pa.Table:
    """ISO Express `hourlysystemdemand` (real-time hourly system load, MW) -> `load` kind actual, UTC."""
    express = _read_express(data)
    frame = express.rows
    if frame.height == 0:
        return spec(Dataset.LOAD).schema.empty_table()
    start, end = _hour_ending(frame)
    out = pl.DataFrame(
        {
            "iso": pl.repeat(Iso.ISONE.value, frame.height, eager=True),
            "zone": pl.repeat(SYSTEM_ZONE, frame.height, eager=True),
            "kind": pl.repeat(LoadKind.ACTUAL.value, frame.height, eager=True),
            "interval_start": start,
            "interval_end": end,
            "mw": _numbers(_column(frame, ("Total Load", "MWh", "Load"), "load"), "load"),
        }
    )
    if out["interval_start"].is_duplicated().any():
        raise ParseError("an hour appears twice in the system demand report")
    return canonical_table(Dataset.LOAD, out.sort("interval_start"))


# --- Web Services JSON ---------------------------------------------------------------------------------


def _ws_records(data: bytes, outer: str, inner: str) -> pl.DataFrame | None:
    """The record list `{outer: {inner: [...]}}` of a Web Services answer as a frame; None when empty."""
    try:
        doc = pl.read_json(io.BytesIO(data), infer_schema_length=None)
    except pl.exceptions.PolarsError as exc:
        raise ParseError(f"not ISO-NE Web Services JSON ({exc})") from None
    if outer not in doc.columns:
        raise ParseError(f"JSON has no {outer!r} object (found {', '.join(doc.columns)})")
    holder = doc[outer]
    if not isinstance(holder.dtype, pl.Struct):
        return None  # ISO-NE answers an empty day with an empty string or null
    body = doc.select(pl.col(outer).struct.unnest())
    if inner not in body.columns:
        return None
    records = body[inner]
    # A single record arrives as an object rather than a one-element list (XML-to-JSON conversion).
    if isinstance(records.dtype, pl.List):
        records = records.explode()
    if not isinstance(records.dtype, pl.Struct):
        raise ParseError(f"{outer}.{inner} is not a list of records")
    return pl.DataFrame(records).unnest(inner).filter(pl.any_horizontal(pl.all().is_not_null()))


def _ws_time(values: pl.Series, what: str) -> pl.Series:
    parsed = values.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", strict=False, time_unit="us")
    bad = parsed.is_null()
    if bad.any():
        row = int(bad.arg_max() or 0)
        raise ParseError(f"record {row + 1}: {what} {values[row]!r} is not an ISO time with offset")
    return parsed.dt.convert_time_zone("UTC")


def _ws_field(frame: pl.DataFrame, name: str) -> pl.Series:
    if name not in frame.columns:
        raise ParseError(f"records lack field {name!r} (found {', '.join(frame.columns)})")
    return frame[name]


def _ws_numbers(frame: pl.DataFrame, name: str) -> pl.Series:
    values = _ws_field(frame, name).cast(pl.Float64, strict=False)
    if values.is_null().any():
        row = int(values.is_null().arg_max() or 0)
        raise ParseError(f"record {row + 1}: {name} is missing or not a number")
    return values


def parse_ws_da_lmp(data: bytes) -> pa.Table:
    """Web Services `hourlylmp/da/final/day/<date>` JSON (day-ahead LMP, $/MWh) -> `lmp` market `DAM`, UTC."""
    records = _ws_records(data, "HourlyLmps", "HourlyLmp")
    if records is None or records.height == 0:
        return spec(Dataset.LMP).schema.empty_table()
    location = _ws_field(records, "Location")
    if not isinstance(location.dtype, pl.Struct) or "$" not in location.struct.fields:
        raise ParseError("HourlyLmp.Location is not an object with a name ($)")
    start = _ws_time(_ws_field(records, "BeginDate"), "BeginDate")
    prices = pl.DataFrame(
        {
            "Locational Marginal Price": _ws_numbers(records, "LmpTotal").cast(pl.String),
            "Energy Component": _ws_numbers(records, "EnergyComponent").cast(pl.String),
            "Congestion Component": _ws_numbers(records, "CongestionComponent").cast(pl.String),
            "Marginal Loss Component": _ws_numbers(records, "LossComponent").cast(pl.String),
        }
    )
    return _lmp_table(prices, "DAM", location.struct.field("$"), start, start + timedelta(hours=1))


def parse_ws_load_forecast(data: bytes) -> pa.Table:
    """Web Services `hourlyloadforecast` JSON (system forecast, MW) -> `load`, issued at `CreationDate`."""
    records = _ws_records(data, "HourlyLoadForecasts", "HourlyLoadForecast")
    if records is None or records.height == 0:
        return spec(Dataset.LOAD).schema.empty_table()
    start = _ws_time(_ws_field(records, "BeginDate"), "BeginDate")
    out = pl.DataFrame(
        {
            "iso": pl.repeat(Iso.ISONE.value, records.height, eager=True),
            "zone": pl.repeat(SYSTEM_ZONE, records.height, eager=True),
            "kind": pl.repeat(LoadKind.FORECAST.value, records.height, eager=True),
            "interval_start": start,
            "interval_end": start + timedelta(hours=1),
            "mw": _ws_numbers(records, "LoadMw"),
            "forecast_issued_at": _ws_time(_ws_field(records, "CreationDate"), "CreationDate"),
        }
    )
    if out.select(pl.struct("interval_start", "forecast_issued_at").is_duplicated().any()).item():
        raise ParseError("a forecast hour appears twice for one CreationDate")
    return canonical_table(Dataset.LOAD, out.sort(["forecast_issued_at", "interval_start"]))


# --- reports -----------------------------------------------------------------------------------------------


def _report(
    name: str,
    title: str,
    dataset: Dataset,
    market: str,
    parse: Parser,
    pattern: str,
    header: tuple[str, ...],
    interval: timedelta,
    cadence: timedelta,
) -> Report:
    return Report(
        Iso.ISONE, name, title, dataset, (market,), parse, re.compile(pattern), header, interval, cadence
    )


_HOURLY_HEADER = ('"Hour Ending"', '"Location Name"', '"Marginal Loss Component"')
DA_LMP = _report(
    "WW_DALMP_ISO",
    "Day-Ahead Energy Market Hourly LMP Report",
    Dataset.LMP,
    "DAM",
    parse_da_lmp,
    r"^WW_DALMP_ISO_\d{8}\.csv$",
    ("Day-Ahead Energy Market Hourly LMP", *_HOURLY_HEADER),
    timedelta(hours=1),
    timedelta(days=1),
)
RT_LMP_FINAL = _report(
    "lmp_rt_final",
    "Real-Time Energy Market Hourly LMP Report (final)",
    Dataset.LMP,
    "RTH",
    parse_rt_lmp_final,
    r"^lmp_rt_final_\d{8}\.csv$",
    ("Real-Time Energy Market Hourly", "final", *_HOURLY_HEADER),
    timedelta(hours=1),
    timedelta(days=1),
)
RT_LMP_PRELIM = _report(
    "lmp_rt_prelim",
    "Real-Time Energy Market Hourly LMP Report (preliminary)",
    Dataset.LMP,
    "RTH",
    parse_rt_lmp_prelim,
    r"^lmp_rt_prelim_\d{8}\.csv$",
    ('"Hour Ending"', '"Location"', "prelim"),
    timedelta(hours=1),
    timedelta(days=1),
)
RT_LMP_5MIN = _report(
    "lmp_5min",
    "Real-Time Five-Minute LMP (preliminary)",
    Dataset.LMP,
    "RT5",
    parse_rt_lmp_5min,
    r"^lmp_5min_\d{8}_\d{2}-\d{2}\.csv$",
    ('"Local Time"', '"Location ID"', '"Loss Component"'),
    timedelta(minutes=5),
    timedelta(hours=4),
)
SYSTEM_DEMAND = _report(
    "hourlysystemdemand",
    "Real-Time Hourly System Load Report",
    Dataset.LOAD,
    LoadKind.ACTUAL.value,
    parse_hourly_system_demand,
    r"^hourlysystemdemand",
    ('"Hour Ending"', '"Total Load"'),
    timedelta(hours=1),
    timedelta(hours=1),
)
WS_DA_LMP = _report(
    "ws_hourlylmp_da_final",
    "Web Services day-ahead hourly LMP (JSON)",
    Dataset.LMP,
    "DAM",
    parse_ws_da_lmp,
    r"^hourlylmp_da_final_\d{8}\.json$",
    ('"HourlyLmps"', '"LmpTotal"'),
    timedelta(hours=1),
    timedelta(days=1),
)
WS_LOAD_FORECAST = _report(
    "ws_hourlyloadforecast",
    "Web Services hourly system load forecast, all vintages (JSON)",
    Dataset.LOAD,
    LoadKind.FORECAST.value,
    parse_ws_load_forecast,
    r"^hourlyloadforecast_all_\d{8}\.json$",
    ('"HourlyLoadForecasts"', '"CreationDate"'),
    timedelta(hours=1),
    timedelta(hours=6),
)

REPORTS: tuple[Report, ...] = (
    DA_LMP,
    RT_LMP_FINAL,
    RT_LMP_PRELIM,
    RT_LMP_5MIN,
    SYSTEM_DEMAND,
    WS_DA_LMP,
    WS_LOAD_FORECAST,
)


# --- downloads ----------------------------------------------------------------------------------------------


def authorization(settings: IsoneSettings) -> str:
    """The Web Services `Authorization` header (HTTP Basic); `FetchError` when no account is set."""
    if not settings.username or settings.password is None:
        raise FetchError(
            WEBSERVICES,
            "ISO-NE Web Services need CARBON254_ISONE_USERNAME and CARBON254_ISONE_PASSWORD",
        )
    account = f"{settings.username}:{settings.password.get_secret_value()}"
    return f"Basic {base64.b64encode(account.encode()).decode()}"


_GENERATED = re.compile(r"Report generated:\s*(\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2})\s*(EST|EDT)")


def report_generated(data: bytes) -> datetime | None:
    """The UTC time in an ISO Express "Report generated: MM/DD/YYYY HH:MM:SS EDT|EST" comment, if any."""
    match = _GENERATED.search(data[:4096].decode("utf-8", "replace"))
    if match is None:
        return None
    local = datetime.strptime(match.group(1), "%m/%d/%Y %H:%M:%S")
    offset = timedelta(hours=-4 if match.group(2) == "EDT" else -5)
    return local.replace(tzinfo=timezone(offset)).astimezone(UTC)


def _express_urls(report: Report, day: date) -> list[str]:
    base = f"{EXPRESS}/static-transform/csv/histRpts"
    ymd = f"{day:%Y%m%d}"
    if report is DA_LMP:
        return [f"{base}/da-lmp/WW_DALMP_ISO_{ymd}.csv"]
    if report is RT_LMP_PRELIM:
        return [f"{base}/rt-lmp/lmp_rt_prelim_{ymd}.csv"]
    if report is RT_LMP_FINAL:
        return [f"{base}/rt-lmp/lmp_rt_final_{ymd}.csv"]
    if report is RT_LMP_5MIN:
        return [f"{base}/5min-rt-prelim/lmp_5min_{ymd}_{block}.csv" for block in FIVE_MINUTE_BLOCKS]
    return [f"{EXPRESS}/transform/csv/hourlysystemdemand?start={ymd}&end={ymd}"]


_TARGETS: dict[tuple[Dataset, str], tuple[Report, ...]] = {
    (Dataset.LMP, "DAM"): (DA_LMP,),
    (Dataset.LMP, "RTH"): (RT_LMP_PRELIM, RT_LMP_FINAL),
    (Dataset.LMP, "RT5"): (RT_LMP_5MIN,),
    (Dataset.LOAD, LoadKind.ACTUAL.value): (SYSTEM_DEMAND,),
    (Dataset.LOAD, LoadKind.FORECAST.value): (WS_LOAD_FORECAST,),
}


# Every (dataset, market) downloaded; RTH's report is the final one.
TARGETS: tuple[DownloadTarget, ...] = tuple(
    DownloadTarget(d, m, reports[-1]) for (d, m), reports in _TARGETS.items()
)


class IsoneConnector:
    """Downloads one Eastern market day: ISO Express CSVs (session cookie) or Web Services JSON (Basic)."""

    iso = Iso.ISONE

    def __init__(self, settings: IsoneSettings | None = None) -> None:
        self.settings = settings or IsoneSettings()

    @property
    def targets(self) -> tuple[DownloadTarget, ...]:
        """Every (dataset, market) this connector downloads."""
        return TARGETS

    def fetch(self, client: IsoClient, dataset: Dataset, market: str, day: date) -> Iterator[Payload]:
        """Yield the files holding `day` (Eastern) for one target; nothing for unpublished files (404)."""
        reports = _TARGETS.get((dataset, market))
        if reports is None:
            raise KeyError(f"ISO-NE has no download for {dataset.value}/{market}")
        if reports == (WS_LOAD_FORECAST,):
            yield from self._fetch_web_services(client, day)
            return
        client.get(LANDING_PAGE)  # sets the ISO Express session cookie the CSVs require
        for report in reports:
            for url in _express_urls(report, day):
                payload = _express_payload(client, report, url, day)
                if payload is not None:
                    yield payload

    def _fetch_web_services(self, client: IsoClient, day: date) -> Iterator[Payload]:
        url = f"{WEBSERVICES}/hourlyloadforecast/all/day/{day:%Y%m%d}"
        headers = {"Authorization": authorization(self.settings), "Accept": "application/json"}
        response = client.get_published(url, headers=headers)
        if response is None:
            return
        name = f"hourlyloadforecast_all_{day:%Y%m%d}.json"
        yield Payload(name=name, data=response.content, report=WS_LOAD_FORECAST, url=response.url)


def _express_payload(client: IsoClient, report: Report, url: str, day: date) -> Payload | None:
    response = client.get_published(url)
    if response is None:
        return None
    if "text/html" in response.headers.get("content-type", ""):
        raise FetchError(url, "ISO Express answered with an HTML page, not CSV (session cookie refused?)")
    name = url.rsplit("/", 1)[-1]
    if "?" in name:
        name = f"{report.name}_{day:%Y%m%d}.csv"
    return Payload(
        name=response.filename() or name,
        data=response.content,
        report=report,
        url=response.url,
        published_at=report_generated(response.content),
    )


def connector(settings: Settings) -> IsoneConnector:
    """The ISO-NE connector with the Web Services account of `settings` (`CARBON254_ISONE_*`)."""
    return IsoneConnector(settings.isone)
