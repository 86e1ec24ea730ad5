"""CAISO OASIS: nodal LMPs (DAM, RTPD 15-minute, RTD 5-minute), ancillary-service prices and load.

Every OASIS request goes to `SingleZip` (no authentication) and comes back as a
zip: with `resultformat=6` it holds one CSV; when OASIS has nothing for the
selection, or refuses the request, it holds an XML error file instead. "No
data returned" means nothing is published (parsers return no rows, `fetch`
yields nothing); any other OASIS error is a `ParseError` carrying OASIS's text.

Reports and where they land:

- `PRC_LMP` v12, market run `DAM` (price column `MW`) -> `lmp` market `DAM`;
- `PRC_RTPD_LMP` v3, market run `RTPD` (price column `PRC`) -> `lmp` market `RT15`;
- `PRC_INTVL_LMP` v3, market run `RTM` (price column `VALUE`) -> `lmp` market `RT5`;
- `PRC_AS` (market run `DAM`) and `PRC_INTVL_AS` (market run `RTM`) -> `as_price`, market `DAM`,
  or `RT15` / `RT5` by the length of the published interval; `HASP` keeps CAISO's name;
- `SLD_FCST` -> `load`: market run `ACTUAL` is kind `actual`; `DAM`, `2DA` and `7DA` are kind
  `forecast`; `RTM` is the real-time forecast, kind `forecast_rt15` (RTPD, 15-minute) or
  `forecast_rt5` (RTD, 5-minute). Rows of a run not listed here are skipped and counted, not
  allowed to sink the rest of the answer.

Time: the `*_GMT` columns (`INTERVALSTARTTIME_GMT`, or `INTERVAL_START_GMT`,
`STARTTIME_GMT`, `START_DATE_GMT` in other reports) are the authority. The
Pacific trade date and hour (`OPR_DT`, `OPR_HR`, which runs 1..23 on the
spring-forward day and 1..25 on the fall-back day) are checked against them
and a disagreement fails the payload. Rows arrive unsorted; output is sorted.

Components: LMP rows are long (one per `LMP_TYPE`: `LMP` total, `MCE` energy,
`MCC` congestion, `MCL` loss, and for EIM areas `MGHG` greenhouse-gas). CAISO's
own convention is LMP = MCE + MCC + MCL (+ MGHG), the canonical sign, so no
sign is flipped. The GHG component is folded into `energy` so that
`lmp = energy + congestion + loss` keeps holding. Where a file carries only
some components for a row the missing ones stay null; energy is derived as
LMP - MCC - MCL when only it is missing, and LMP as the sum when only it is.

Load forecasts carry no issue time in OASIS. `forecast_issued_at` is set by
rule to 10:00 Pacific prevailing time on the trade date minus 1 (`DAM`),
2 (`2DA`) or 7 (`7DA`) days: 10:00 is the day-ahead market's bid close, by
which CAISO has published the forecast of that horizon, so a query "as of"
that time never sees a forecast before it existed.

Settings: `CARBON254_CAISO_NODES` (comma-separated pnode names, `CaisoSettings.nodes`,
handed over by `connector(settings)`) restricts LMP downloads to those nodes (one
request per day); unset, LMPs are requested for
all aggregate pnodes (`grp_type=ALL_APNODES`), one day per request for DAM and
one hour per request for the real-time markets, as OASIS requires. OASIS
answers requests spaced closer than about 5 s with an error, so use
`RECOMMENDED_TRANSPORT` (`min_interval_s=5`) against the real host.
"""

from __future__ import annotations

import importlib
import io
import re
import struct
import warnings
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import ModuleType
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from carbon254.isos import Iso
from carbon254.isos.caiso import DECLARATION
from carbon254.isos.caiso.settings import CaisoSettings
from carbon254.markets.archive import is_zip, payload_files
from carbon254.markets.canonical import canonical_table
from carbon254.markets.connector import DownloadTarget, Payload
from carbon254.markets.localtime import hour_index_to_utc, local_to_utc
from carbon254.markets.report import ParseError, Parser, Report, SkippedRows, mark_skipped
from carbon254.markets.transport import IsoClient, TransportConfig
from carbon254.schema import Dataset, LoadKind, LocationType, spec

if TYPE_CHECKING:
    from carbon254.config import Settings

TZ = DECLARATION.info.timezone
OASIS_URL = "http://oasis.caiso.com/oasisapi/SingleZip"
RECOMMENDED_TRANSPORT = TransportConfig(min_interval_s=DECLARATION.min_request_interval_s)

_START_COLUMNS = ("INTERVALSTARTTIME_GMT", "INTERVAL_START_GMT", "STARTTIME_GMT", "START_DATE_GMT")
_END_COLUMNS = ("INTERVALENDTIME_GMT", "INTERVAL_END_GMT", "ENDTIME_GMT", "END_DATE_GMT")
_LMP_TYPES = ("LMP", "MCE", "MCC", "MCL", "MGHG")
_NO_DATA = "no data returned"
# Forecast horizon of each SLD_FCST market run, in days before the trade date.
_FORECAST_LEAD_DAYS = {"DAM": 1, "2DA": 2, "7DA": 7}
_FORECAST_ISSUE_HOUR = 10


# --- reading OASIS payloads -------------------------------------------------------------------------


def _oasis_error(text: bytes) -> str | None:
    """The error text of an OASIS XML error file (`ERR_CODE`: `ERR_DESC`), or None if it holds none."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ParseError(f"OASIS returned an XML file that does not parse ({exc})") from None
    code = desc = None
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "ERR_CODE":
            code = (element.text or "").strip()
        elif tag == "ERR_DESC":
            desc = (element.text or "").strip()
    if desc is None and code is None:
        return None
    return f"{code}: {desc}" if code else str(desc)


def _inflater() -> ModuleType:
    """`isal.isal_zlib` if installed, else zlib: ISA-L inflates a 55 MB OASIS CSV in half of zlib's 95 ms."""
    try:
        return importlib.import_module("isal.isal_zlib")
    except ImportError:
        return zlib


_ZLIB = _inflater()
# Below this many CSV bytes the typed, threaded LMP path and the distinct-interval shortcut cost more in
# fixed overhead (threads, arrow round trips) than they save: small files keep the row-by-row path.
_FAST_MIN_BYTES = 1 << 20
_FAST_MIN_ROWS = 20_000
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, then file name and extra field lengths at byte 26


def _fast_zip_members(data: bytes) -> list[tuple[str, bytes]] | None:
    """The zip's members like `archive.zip_members`, inflated with `_ZLIB`; None for anything unusual.

    zipfile always inflates with stdlib zlib, which was the largest single cost
    of a full-pnode DAM file. Each deflated member's raw stream is cut from the
    payload and inflated here, with zipfile's own size and CRC checks. On any
    surprise (encryption, a bad header, a corrupt stream) the caller falls back
    to `payload_files`, so errors stay exactly those of the shared reader.
    """
    members: list[tuple[str, bytes]] = []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                if info.compress_type != zipfile.ZIP_DEFLATED or info.flag_bits & 1:
                    return None
                signature, name_len, extra_len = _LOCAL_HEADER.unpack_from(data, info.header_offset)
                name_at = info.header_offset + _LOCAL_HEADER.size
                name = data[name_at : name_at + name_len].decode(
                    "utf-8" if info.flag_bits & 0x800 else "cp437"
                )
                if signature != b"PK\x03\x04" or name != info.orig_filename or info.flag_bits & 0x60:
                    return None
                begin = info.header_offset + _LOCAL_HEADER.size + name_len + extra_len
                raw = memoryview(data)[begin : begin + info.compress_size]
                body = _ZLIB.decompress(raw, -15, max(info.file_size, 1))
                if len(body) != info.file_size or _ZLIB.crc32(body) != info.CRC:
                    return None
                members.append((info.filename, body))
    except Exception:  # any failure is reported by the shared reader on the fallback path
        return None
    return members or None


_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no name, no mtime, unknown OS


def _polars_source(data: bytes) -> bytes | None:
    """A single big CSV of `data` in a form Polars reads directly, or None to go the general way.

    A bare CSV is returned as is. A zip of exactly one deflated member is
    re-wrapped as gzip (a 10-byte header, the member's raw deflate stream, and
    its CRC-32 and size from the zip as the trailer): Polars inflates it while
    parsing and checks both, and skips materialising the 55 MB inflated
    body in Python, a fifth of the PRC_LMP parse time. Smaller payloads and
    anything else (several members, stored or encrypted members) return None.
    """
    if not is_zip(data):
        return data if len(data) >= _FAST_MIN_BYTES else None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            if len(infos) != 1:
                return None
            info = infos[0]
            if (
                info.compress_type != zipfile.ZIP_DEFLATED
                or info.flag_bits & 0x61  # encrypted, patched or strongly encrypted
                or info.file_size < _FAST_MIN_BYTES
                or info.file_size >= 1 << 32
            ):
                return None
            signature, name_len, extra_len = _LOCAL_HEADER.unpack_from(data, info.header_offset)
    except (zipfile.BadZipFile, struct.error, OSError, ValueError):
        return None
    if signature != b"PK\x03\x04":
        return None
    begin = info.header_offset + _LOCAL_HEADER.size + name_len + extra_len
    raw = data[begin : begin + info.compress_size]
    if len(raw) != info.compress_size:
        return None
    return _GZIP_HEADER + raw + struct.pack("<II", info.CRC, info.file_size)


def _csv_bodies(data: bytes) -> list[tuple[str, bytes]]:
    """(name, CSV bytes) of an OASIS payload: [] when OASIS says it has no data.

    Accepts the zip OASIS serves or a bare CSV. An XML member with an OASIS
    error other than "no data" raises `ParseError` with OASIS's text.
    """
    files = _fast_zip_members(data) if is_zip(data) else None
    if files is None:
        files = payload_files(data)
    bodies: list[tuple[str, bytes]] = []
    for name, body in files:
        if body.lstrip()[:1] == b"<":
            error = _oasis_error(body)
            if error is None:
                raise ParseError(f"{name or 'payload'}: OASIS XML without CSV (request resultformat=6)")
            if _NO_DATA in error.lower():
                continue
            raise ParseError(f"OASIS error: {error}")
        bodies.append((name, body))
    return bodies


def _read_oasis(bodies: list[tuple[str, bytes]]) -> pl.DataFrame | None:
    """The CSV rows of an OASIS payload's CSV bodies as strings, or None when there are none."""
    frames: list[pl.DataFrame] = []
    for name, body in bodies:
        try:
            frames.append(pl.read_csv(body, infer_schema=False))
        except pl.exceptions.PolarsError as exc:
            raise ParseError(f"{name or 'payload'}: not a readable OASIS CSV ({exc})") from None
    if not frames:
        return None
    try:
        return pl.concat(frames, how="vertical")
    except pl.exceptions.PolarsError as exc:
        raise ParseError(f"the zip's CSV members have different columns ({exc})") from None


def _csv_header(source: bytes) -> list[str] | None:
    """The header of a CSV (plain or gzip), or None when it does not read."""
    try:
        return pl.read_csv(source, n_rows=0, infer_schema=False).columns
    except (pl.exceptions.PolarsError, OSError):
        return None


_EXTRA = "__beyond_header__"


def _read_typed(
    source: bytes, header: list[str], columns: list[str], dtypes: dict[str, pl.DataType]
) -> pl.DataFrame | None:
    """Only `columns` of a CSV (plain or gzip), typed by `dtypes` (others as strings), or None on refusal.

    Reading all 16 columns as strings and casting afterwards was a third of
    the PRC_LMP parse time. A value the typed reader refuses (a number that
    does not read, a text outside an Enum), a null in a needed column, or a
    corrupt gzip stream returns None: the caller then takes the string path,
    which reports the problem exactly as before (the typed reader accepts no
    text that the string path rejects).

    A projected read ignores fields beyond the header's, which the full read
    rejects, and fills a short line with nulls. So the schema declares one
    column past the header, which any longer line fills, and the header's last
    column is read, which a shorter line leaves null: both must come out
    all-null and null-free respectively.
    """
    schema: dict[str, pl.DataType] = {name: pl.String() for name in [*header, _EXTRA]}
    schema.update(dtypes)
    wanted = list(dict.fromkeys([*columns, header[-1]]))
    try:
        with warnings.catch_warnings():  # `missing_columns` is marked unstable; the fast-path test pins it
            warnings.simplefilter("ignore")
            lazy = pl.scan_csv(source, schema=schema, missing_columns="insert")
        frame = lazy.select([*wanted, _EXTRA]).collect()
    except (pl.exceptions.PolarsError, OSError):
        return None
    if frame.height == 0 or frame[_EXTRA].null_count() != frame.height:
        return None
    frame = frame.select(wanted)
    if any(frame.null_count().row(0)):
        return None
    return frame.select(columns)


def _local_categorical() -> pl.Categorical:
    """A Categorical with categories of its own, coded 0..n-1 in order of first appearance.

    Reading repetitive text columns (interval times, node names) straight into
    categories skips materialising 360,000 strings per column and then hashing
    them back to codes: a seventh of the PRC_LMP parse. Process-global
    categories would number codes across every file ever read.
    """
    return pl.Categorical(pl.Categories.random())


def _require(frame: pl.DataFrame, columns: tuple[str, ...], report: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ParseError(
            f"{report}: missing column(s) {', '.join(missing)}; found {', '.join(frame.columns)}"
        )


def _first_column(frame: pl.DataFrame, names: tuple[str, ...], what: str) -> str:
    for name in names:
        if name in frame.columns:
            return name
    raise ParseError(f"no {what} column (expected one of {', '.join(names)})")


def _bad_row(mask: pl.Series) -> int:
    """The 1-based CSV line of the first True in `mask` (the header is line 1)."""
    return int(mask.arg_max() or 0) + 2


def _gmt(frame: pl.DataFrame, column: str) -> pl.Series:
    """An OASIS GMT column (`2020-01-02T01:00:00-00:00`) as UTC timestamps; bad values raise `ParseError`."""
    raw = frame[column]
    parsed = raw.str.to_datetime("%Y-%m-%dT%H:%M:%S%:z", strict=False, time_unit="us")
    bad = parsed.is_null()
    if bad.any():
        line = _bad_row(bad)
        raise ParseError(f"line {line}: {column} {raw[line - 2]!r} is not an OASIS GMT time")
    return parsed.dt.convert_time_zone("UTC")


def _numbers(frame: pl.DataFrame, column: str) -> pl.Series:
    """A numeric column as float64; an empty or non-numeric value raises `ParseError` naming the line."""
    raw = frame[column]
    values = raw.str.strip_chars().cast(pl.Float64, strict=False)
    bad = values.is_null()
    if bad.any():
        line = _bad_row(bad)
        raise ParseError(f"line {line}: {column} {raw[line - 2]!r} is not a number")
    return values


def _interval(frame: pl.DataFrame) -> tuple[pl.Series, pl.Series]:
    """(start, end) in UTC from the GMT columns, checked against `OPR_DT`/`OPR_HR` when present."""
    found = _interval_codes(frame) if frame.height >= _FAST_MIN_ROWS else None
    if found is not None:
        codes, starts, ends = found
        return starts.gather(codes), ends.gather(codes)
    return _interval_rows(frame)


def _interval_rows(frame: pl.DataFrame) -> tuple[pl.Series, pl.Series]:
    """`_interval` row by row: slow, but names the first bad CSV line."""
    start = _gmt(frame, _first_column(frame, _START_COLUMNS, "interval start (GMT)"))
    end = _gmt(frame, _first_column(frame, _END_COLUMNS, "interval end (GMT)"))
    if (end <= start).any():
        raise ParseError(f"line {_bad_row(end <= start)}: interval end is not after its start")
    if "OPR_DT" in frame.columns and "OPR_HR" in frame.columns:
        _check_operating_hour(frame, start)
    return start, end


def _interval_codes(frame: pl.DataFrame) -> tuple[pl.Series, pl.Series, pl.Series] | None:
    """(row -> interval index, starts, ends) with the intervals in start order, or None if not simple.

    A file has a few dozen distinct (start, end, OPR_DT, OPR_HR) among
    hundreds of thousands of rows: parsing and checking each row was 15% of
    the parse time, so only the distinct combinations are parsed and checked.
    This needs each start text to come with one end and trade hour (as many
    combinations as start texts), and distinct start texts to be distinct
    instants. Otherwise, or when a check fails, None sends the caller to
    `_interval_rows`, which reports the bad line.
    """
    keys = _interval_keys(frame)
    if keys is None:
        return None
    found = _codes(frame[keys[0]])
    if found is None:
        return None
    indices, sample = found
    if not all(_follows(frame[k], indices, sample) for k in keys[1:]):
        return None
    return _distinct_intervals(frame.select(keys).gather(sample), indices)


def _interval_codes_categorical(frame: pl.DataFrame) -> tuple[pl.Series, pl.Series, pl.Series] | None:
    """`_interval_codes` for key columns read as `_local_categorical`: their codes are the distinct values."""
    keys = _interval_keys(frame)
    if keys is None:
        return None
    codes = [frame[k].to_physical().to_numpy() for k in keys]
    indices = codes[0]
    sample = np.empty(int(indices.max()) + 1, dtype=np.int64)
    sample[indices] = np.arange(len(indices))  # some row of each start code
    if not all(np.array_equal(other, other[sample[indices]]) for other in codes[1:]):
        return None
    combos = frame.select(keys).gather(sample).with_columns(pl.all().cast(pl.String))
    return _distinct_intervals(combos, indices)


def _interval_keys(frame: pl.DataFrame) -> list[str] | None:
    """The columns that name a row's interval (GMT start first), or None when absent or null anywhere."""
    try:
        keys = [
            _first_column(frame, _START_COLUMNS, "interval start (GMT)"),
            _first_column(frame, _END_COLUMNS, "interval end (GMT)"),
        ]
    except ParseError:
        return None
    if "OPR_DT" in frame.columns and "OPR_HR" in frame.columns:
        keys += ["OPR_DT", "OPR_HR"]
    if frame.height == 0 or any(frame.select(keys).null_count().row(0)):
        return None
    return keys


def _distinct_intervals(combos: pl.DataFrame, indices: Any) -> tuple[pl.Series, pl.Series, pl.Series] | None:
    """Parse and check the distinct interval texts (`combos` row i is code i); None if any is wrong."""
    try:
        start, end = _interval_rows(combos)
    except ParseError:
        return None
    if start.is_duplicated().any():
        return None
    order = start.arg_sort().to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return pl.Series(rank[indices]), start.gather(order), end.gather(order)


def _codes(column: pl.Series) -> tuple[Any, Any] | None:
    """(each row's index into the column's distinct values, some row of each), or None.

    Found by hash (exact once the distinct values' hashes differ; None if two
    collide): faster than an arrow dictionary_encode, which needs to_arrow first.
    """
    hashes = column.unique().hash().to_numpy()
    order = np.argsort(hashes)
    ordered = hashes[order]
    if len(ordered) > 1 and not (ordered[1:] != ordered[:-1]).all():
        return None
    indices = order[np.searchsorted(ordered, column.hash().to_numpy())]
    sample = np.empty(len(hashes), dtype=np.int64)
    sample[indices] = np.arange(len(indices))
    return indices, sample


def _follows(column: pl.Series, indices: Any, sample: Any) -> bool:
    """Whether each row of `column` equals the value at `sample[indices]` (its start text's sample row).

    Compared by hash, which is exact once the column's distinct values have
    distinct hashes: a unique() over the four key columns cost three times this.
    """
    hashes = column.hash().to_numpy()
    if not np.array_equal(hashes, hashes[sample[indices]]):
        return False
    distinct = column.unique()
    return distinct.hash().n_unique() == distinct.len()


def _check_operating_hour(frame: pl.DataFrame, start: pl.Series) -> None:
    """Fail when an interval does not fall in the Pacific trade hour `OPR_DT`/`OPR_HR` says it does."""
    day = frame["OPR_DT"].str.to_date("%Y-%m-%d", strict=False)
    hour = frame["OPR_HR"].str.strip_chars().cast(pl.Int64, strict=False)
    bad = day.is_null() | hour.is_null()
    if bad.any():
        line = _bad_row(bad)
        raise ParseError(
            f"line {line}: OPR_DT/OPR_HR {frame['OPR_DT'][line - 2]!r}/{frame['OPR_HR'][line - 2]!r}"
        )
    hour_start, hour_end = hour_index_to_utc(day, hour, TZ)
    outside = (start < hour_start) | (start >= hour_end)
    if outside.any():
        line = _bad_row(outside)
        raise ParseError(
            f"line {line}: GMT start {start[line - 2]} is not in trade hour "
            f"{frame['OPR_DT'][line - 2]} HE{frame['OPR_HR'][line - 2]} Pacific"
        )


def _market(frame: pl.DataFrame, start: pl.Series, end: pl.Series) -> pl.Series:
    """Store market of each row: `DAM` and `HASP` as named, `RTM` by interval length (RT15 or RT5)."""
    minutes = (end - start).dt.total_minutes()
    run = (
        frame["MARKET_RUN_ID"]
        if "MARKET_RUN_ID" in frame.columns
        else pl.repeat("RTM", frame.height, eager=True)
    )
    market = (
        pl.DataFrame({"run": run, "m": minutes})
        .select(
            pl.when(pl.col("run") == "DAM")
            .then(pl.lit("DAM"))
            .when(pl.col("run") == "HASP")
            .then(pl.lit("HASP"))
            .when((pl.col("run") == "RTM") & (pl.col("m") == 15))
            .then(pl.lit("RT15"))
            .when((pl.col("run") == "RTM") & (pl.col("m") == 5))
            .then(pl.lit("RT5"))
            .alias("market")
        )
        .to_series()
    )
    if market.is_null().any():
        line = _bad_row(market.is_null())
        raise ParseError(
            f"line {line}: market run {run[line - 2]!r} with a {minutes[line - 2]}-minute interval "
            "is not one this parser stores"
        )
    return market


def _fail_on_duplicates(frame: pl.DataFrame, key: list[str], what: str) -> None:
    dup = frame.select(pl.struct(key).is_duplicated()).to_series()
    if dup.any():
        row = frame.row(int(dup.arg_max() or 0), named=True)
        shown = ", ".join(f"{k}={row[k]}" for k in key)
        raise ParseError(f"{what} appears twice ({shown})")


# --- LMP ----------------------------------------------------------------------------------------------


def _location_type(node: pl.Expr) -> pl.Expr:
    """Trading hubs (`TH_*`) are hubs, load aggregation points (`DLAP_*`, `SLAP_*`) zones, the rest nodes."""
    return (
        pl.when(node.str.starts_with("TH_"))
        .then(pl.lit(LocationType.HUB.value))
        .when(node.str.starts_with("DLAP_") | node.str.starts_with("SLAP_"))
        .then(pl.lit(LocationType.ZONE.value))
        .otherwise(pl.lit(LocationType.NODE.value))
    )


def _parse_lmp(data: bytes, report: str, price_column: str, market: str) -> pa.Table:
    """Long OASIS LMP rows (one per `LMP_TYPE`) pivoted to one canonical row per node and interval."""
    source = _polars_source(data)
    wide = _lmp_wide_typed(source, price_column) if source is not None else None
    if wide is None:
        frame = _read_oasis(_csv_bodies(data))
        if frame is None:
            return spec(Dataset.LMP).schema.empty_table()
        wide = _lmp_wide_strings(frame, report, price_column)
    # GHG is part of the marginal energy cost; folding it keeps lmp = energy + congestion + loss.
    energy = pl.col("MCE") + pl.col("MGHG").fill_null(0.0)
    out = wide.select(
        pl.lit(Iso.CAISO.value).alias("iso"),
        pl.lit(market).alias("market"),
        "location",
        _location_type(pl.col("location")).alias("location_type"),
        "interval_start",
        "interval_end",
        pl.coalesce(pl.col("LMP"), energy + pl.col("MCC") + pl.col("MCL")).alias("lmp"),
        pl.coalesce(energy, pl.col("LMP") - pl.col("MCC") - pl.col("MCL")).alias("energy"),
        pl.col("MCC").alias("congestion"),
        pl.col("MCL").alias("loss"),
    )
    missing = out["lmp"].is_null()
    if missing.any():
        row = out.row(int(missing.arg_max() or 0), named=True)
        raise ParseError(
            f"{report}: {row['location']} at {row['interval_start']} has neither an LMP row "
            "nor all of MCE, MCC and MCL"
        )
    return canonical_table(Dataset.LMP, out)


def _lmp_wide_strings(frame: pl.DataFrame, report: str, price_column: str) -> pl.DataFrame:
    """Wide components (location, interval_start, interval_end, one column per LMP_TYPE), sorted.

    The general path, row by row, naming the first bad line or duplicate.
    """
    _require(frame, ("NODE", "LMP_TYPE", price_column), report)
    start, end = _interval(frame)
    long = pl.DataFrame(
        {
            "location": frame["NODE"],
            "kind": frame["LMP_TYPE"],
            "interval_start": start,
            "interval_end": end,
            "price": _numbers(frame, price_column),
        }
    )
    unknown = ~long["kind"].is_in(_LMP_TYPES)
    if unknown.any():
        line = _bad_row(unknown)
        raise ParseError(
            f"line {line}: LMP_TYPE {long['kind'][line - 2]!r} is not one of {', '.join(_LMP_TYPES)}"
        )
    _fail_on_duplicates(long, ["location", "kind", "interval_start"], f"{report} price")
    wide = long.group_by(["location", "interval_start"]).agg(
        pl.col("interval_end").first(),
        pl.col("interval_end").n_unique().alias("ends"),
        *[pl.col("price").filter(pl.col("kind") == k).first().alias(k) for k in _LMP_TYPES],
    )
    if (wide["ends"] > 1).any():
        raise ParseError(f"{report}: components of one interval disagree on its end time")
    return wide.drop("ends").sort(["location", "interval_start"])


def _lmp_wide_typed(source: bytes, price_column: str) -> pl.DataFrame | None:
    """`_lmp_wide_strings` for a well-formed single big CSV (`_polars_source`), several times faster; or None.

    Instead of a group_by with five filtered aggregations plus a hashed
    duplicate check (a third of the old parse time), each row gets a slot
    (node rank, interval rank, LMP_TYPE) in a dense node x interval x type
    grid filled with numpy: a slot hit twice is a duplicate, and walking the
    grid in order yields rows already sorted by (location, interval_start).
    Anything irregular (duplicates, unknown types, nulls, a sparse grid)
    returns None, and the string path then raises its usual error.
    """
    header = _csv_header(source)
    if header is None:
        return None
    s_col = next((c for c in _START_COLUMNS if c in header), None)
    e_col = next((c for c in _END_COLUMNS if c in header), None)
    needed = ("NODE", "LMP_TYPE", price_column)
    if s_col is None or e_col is None or any(c not in header for c in needed):
        return None
    opr = ["OPR_DT", "OPR_HR"] if "OPR_DT" in header and "OPR_HR" in header else []
    keys = [s_col, e_col, *opr]
    dtypes: dict[str, pl.DataType] = {k: _local_categorical() for k in [*keys, "NODE"]}
    dtypes["LMP_TYPE"] = pl.Enum(_LMP_TYPES)  # an unknown type fails the read: the string path names it
    dtypes[price_column] = pl.Float64()
    frame = _read_typed(source, header, [*keys, *needed], dtypes)
    if frame is None:
        return None
    found = _interval_codes_categorical(frame)
    if found is None:
        return None
    interval, starts, ends = found
    n_types = len(_LMP_TYPES)
    kind = frame["LMP_TYPE"].to_physical().cast(pl.Int64)  # Enum codes: _LMP_TYPES order
    encoded: Any = frame["NODE"].to_arrow()
    order = pc.array_sort_indices(encoded.dictionary).to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    n_intervals = starts.len()
    groups = len(order) * n_intervals
    if groups > 4 * frame.height + 1024:  # sparse: the grid would cost more than it saves
        return None
    slot = (rank[encoded.indices.to_numpy()] * n_intervals + interval.to_numpy()) * n_types + kind.to_numpy()
    hits = np.bincount(slot, minlength=groups * n_types)
    if hits.max() > 1:
        return None
    flat = np.zeros(groups * n_types)
    flat[slot] = frame[price_column].to_numpy()
    grid = flat.reshape(groups, n_types)
    present = (hits > 0).reshape(groups, n_types)
    keep = np.flatnonzero(present.any(axis=1))
    locations = pl.Series(encoded.dictionary.take(pa.array(order)))
    columns: dict[str, pl.Series] = {
        "location": locations.gather(keep // n_intervals),
        "interval_start": starts.gather(keep % n_intervals),
        "interval_end": ends.gather(keep % n_intervals),
    }
    for k, name in enumerate(_LMP_TYPES):
        values = pa.array(grid[keep, k], mask=~present[keep, k])
        columns[name] = pl.Series(name, values)
    return pl.DataFrame(columns)


def parse_prc_lmp(data: bytes) -> pa.Table:
    """OASIS `PRC_LMP` (day-ahead hourly, price column `MW`, $/MWh) -> `lmp` rows of market `DAM`, UTC."""
    return _parse_lmp(data, "PRC_LMP", "MW", "DAM")


def parse_prc_rtpd_lmp(data: bytes) -> pa.Table:
    """OASIS `PRC_RTPD_LMP` (15-minute RTPD, price in `PRC`, $/MWh) -> `lmp` rows of market `RT15`, UTC."""
    return _parse_lmp(data, "PRC_RTPD_LMP", "PRC", "RT15")


def parse_prc_intvl_lmp(data: bytes) -> pa.Table:
    """OASIS `PRC_INTVL_LMP` (5-minute RTD, price in `VALUE`, $/MWh) -> `lmp` rows of market `RT5`, UTC."""
    return _parse_lmp(data, "PRC_INTVL_LMP", "VALUE", "RT5")


# --- ancillary services ---------------------------------------------------------------------------------


def _parse_as(data: bytes, report: str) -> pa.Table:
    frame = _read_oasis(_csv_bodies(data))
    if frame is None:
        return spec(Dataset.AS_PRICE).schema.empty_table()
    _require(frame, ("ANC_TYPE", "ANC_REGION"), report)
    price = _first_column(frame, ("MW", "VALUE", "PRC"), "price")
    start, end = _interval(frame)
    out = pl.DataFrame(
        {
            "iso": pl.repeat(Iso.CAISO.value, frame.height, eager=True),
            "market": _market(frame, start, end),
            "region": frame["ANC_REGION"],
            "product": frame["ANC_TYPE"],
            "interval_start": start,
            "interval_end": end,
            "price": _numbers(frame, price),
        }
    )
    _fail_on_duplicates(out, ["market", "region", "product", "interval_start"], f"{report} price")
    return canonical_table(Dataset.AS_PRICE, out.sort(["market", "region", "product", "interval_start"]))


def parse_prc_as(data: bytes) -> pa.Table:
    """OASIS `PRC_AS` (day-ahead AS clearing prices, $/MW-h) -> `as_price` by `ANC_REGION` and `ANC_TYPE`."""
    return _parse_as(data, "PRC_AS")


def parse_prc_intvl_as(data: bytes) -> pa.Table:
    """OASIS `PRC_INTVL_AS` (real-time AS prices, $/MW-h) -> `as_price`, market RT15 or RT5 by interval."""
    return _parse_as(data, "PRC_INTVL_AS")


# --- load -------------------------------------------------------------------------------------------------


def _issued_at(frame: pl.DataFrame, run: pl.Series) -> pl.Series:
    """`forecast_issued_at` (UTC) by the module's rule: 10:00 Pacific, 1/2/7 days before the trade date."""
    lead = run.replace_strict(_FORECAST_LEAD_DAYS, default=None, return_dtype=pl.Int64)
    if lead.is_null().all():
        return pl.Series("issued", [None] * frame.height, dtype=pl.Datetime("us", "UTC"))
    _require(frame, ("OPR_DT",), "SLD_FCST")
    day = frame["OPR_DT"].str.to_date("%Y-%m-%d", strict=False)
    local = pl.DataFrame({"d": day, "lead": lead}).select(
        pl.col("d").cast(pl.Datetime("us"))
        - pl.duration(days=pl.col("lead"))
        + timedelta(hours=_FORECAST_ISSUE_HOUR)
    )
    return local_to_utc(local.to_series(), TZ, what="forecast issue time")


def _sld_kind(run: pl.Series, minutes: pl.Series) -> pl.Series:
    """The load kind of each SLD_FCST row (null where this parser maps none), from its run and interval."""
    return pl.select(
        pl.when(pl.lit(run) == "ACTUAL")
        .then(pl.lit(LoadKind.ACTUAL.value))
        .when(pl.lit(run).is_in(list(_FORECAST_LEAD_DAYS)))
        .then(pl.lit(LoadKind.FORECAST.value))
        .when((pl.lit(run) == "RTM") & (pl.lit(minutes) == 15))
        .then(pl.lit(LoadKind.FORECAST_RT15.value))
        .when((pl.lit(run) == "RTM") & (pl.lit(minutes) == 5))
        .then(pl.lit(LoadKind.FORECAST_RT5.value))
    ).to_series()


def _skipped(categories: pl.Series) -> list[SkippedRows]:
    """Row counts per category name, in name order."""
    counts = categories.value_counts(name="rows").sort(categories.name)
    return [SkippedRows(str(c), int(n)) for c, n in counts.iter_rows()]


def parse_sld_fcst(data: bytes) -> pa.Table:
    """OASIS `SLD_FCST` (MW by TAC area) -> `load`, every market run it maps, UTC.

    `ACTUAL` is kind actual; `DAM`/`2DA`/`7DA` are kind forecast (issue time
    by the module's rule); `RTM` rows are the real-time market's forecasts:
    15-minute intervals (RTPD) kind `forecast_rt15`, 5-minute ones (RTD)
    `forecast_rt5`. OASIS gives them no issue time and one binding value per
    interval, so `forecast_issued_at` is null and a changed value is a
    revision. Rows of another run (or an RTM interval of another length) are
    left out and listed with `mark_skipped`, e.g. `MARKET_RUN_ID=HASP`; a
    payload none of whose rows map fails.
    """
    frame = _read_oasis(_csv_bodies(data))
    if frame is None:
        return spec(Dataset.LOAD).schema.empty_table()
    _require(frame, ("TAC_AREA_NAME", "MARKET_RUN_ID", "MW"), "SLD_FCST")
    run = frame["MARKET_RUN_ID"].fill_null("")
    runs = run.is_in(["ACTUAL", *_FORECAST_LEAD_DAYS, "RTM"])
    skipped = _skipped(("MARKET_RUN_ID=" + run.filter(~runs)).alias("category"))
    frame = frame.filter(runs)
    if frame.height:
        start, end = _interval(frame)
        minutes = (end - start).dt.total_minutes()
        kind = _sld_kind(frame["MARKET_RUN_ID"], minutes)
        unmapped = kind.is_null()
        if unmapped.any():
            lengths = minutes.filter(unmapped).cast(pl.String)
            odd = ("MARKET_RUN_ID=RTM, " + lengths + "-minute intervals").alias("category")
            skipped = sorted([*skipped, *_skipped(odd)], key=lambda s: s.category)
            frame = frame.filter(~unmapped)
            start, end, kind = start.filter(~unmapped), end.filter(~unmapped), kind.filter(~unmapped)
    if frame.height == 0:
        listed = ", ".join(f"{s.category} ({s.rows} rows)" for s in skipped)
        raise ParseError(f"SLD_FCST: no row of a market run this parser maps; found {listed}")
    run = frame["MARKET_RUN_ID"]
    out = pl.DataFrame(
        {
            "iso": pl.repeat(Iso.CAISO.value, frame.height, eager=True),
            "zone": frame["TAC_AREA_NAME"],
            "kind": kind,
            "interval_start": start,
            "interval_end": end,
            "mw": _numbers(frame, "MW"),
            "forecast_issued_at": _issued_at(frame, run),
        }
    )
    _fail_on_duplicates(out, ["zone", "kind", "interval_start", "forecast_issued_at"], "SLD_FCST value")
    table = canonical_table(Dataset.LOAD, out.sort(["zone", "kind", "forecast_issued_at", "interval_start"]))
    return mark_skipped(table, skipped)


# --- reports ---------------------------------------------------------------------------------------------


def _report(
    name: str,
    title: str,
    dataset: Dataset,
    markets: tuple[str, ...],
    parse: Parser,
    header: tuple[str, ...],
    interval: timedelta | None,
    cadence: timedelta,
) -> Report:
    # Names in OASIS zips look like 20240310_20240311_PRC_LMP_DAM_LMP_v12.csv.
    pattern = re.compile(rf"(^|_){name}(_|\.|$)")
    return Report(Iso.CAISO, name, title, dataset, markets, parse, pattern, header, interval, cadence)


PRC_LMP = _report(
    "PRC_LMP",
    "Day-ahead hourly LMP",
    Dataset.LMP,
    ("DAM",),
    parse_prc_lmp,
    ("LMP_TYPE", ",MW,"),
    timedelta(hours=1),
    timedelta(days=1),
)
PRC_RTPD_LMP = _report(
    "PRC_RTPD_LMP",
    "Real-time 15-minute (RTPD/FMM) LMP",
    Dataset.LMP,
    ("RT15",),
    parse_prc_rtpd_lmp,
    ("LMP_TYPE", ",PRC,"),
    timedelta(minutes=15),
    timedelta(minutes=15),
)
PRC_INTVL_LMP = _report(
    "PRC_INTVL_LMP",
    "Real-time 5-minute (RTD) LMP",
    Dataset.LMP,
    ("RT5",),
    parse_prc_intvl_lmp,
    ("LMP_TYPE", ",VALUE,"),
    timedelta(minutes=5),
    timedelta(minutes=5),
)
PRC_AS = _report(
    "PRC_AS",
    "Day-ahead ancillary-service clearing prices",
    Dataset.AS_PRICE,
    ("DAM", "HASP"),
    parse_prc_as,
    ("ANC_TYPE", "ANC_REGION", ",DAM,"),
    timedelta(hours=1),
    timedelta(days=1),
)
PRC_INTVL_AS = _report(
    "PRC_INTVL_AS",
    "Real-time interval ancillary-service prices",
    Dataset.AS_PRICE,
    ("RT15", "RT5"),
    parse_prc_intvl_as,
    ("ANC_TYPE", "ANC_REGION", ",RTM,"),
    None,
    timedelta(minutes=15),
)
SLD_FCST = _report(
    "SLD_FCST",
    "System load actual and forecasts by TAC area",
    Dataset.LOAD,
    (
        LoadKind.ACTUAL.value,
        LoadKind.FORECAST.value,
        LoadKind.FORECAST_RT15.value,
        LoadKind.FORECAST_RT5.value,
    ),
    parse_sld_fcst,
    ("TAC_AREA_NAME", "MARKET_RUN_ID"),
    timedelta(hours=1),
    timedelta(hours=1),
)

REPORTS: tuple[Report, ...] = (PRC_LMP, PRC_RTPD_LMP, PRC_INTVL_LMP, PRC_AS, PRC_INTVL_AS, SLD_FCST)


# --- downloads -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Query:
    """One OASIS query: the report, its `queryname`/`version`, market run ids and extra parameters."""

    report: Report
    version: int
    runs: tuple[str, ...]
    extra: tuple[tuple[str, str], ...] = ()
    nodal: bool = False
    hourly_chunks: bool = False


_QUERIES: dict[tuple[Dataset, str], _Query] = {
    (Dataset.LMP, "DAM"): _Query(PRC_LMP, 12, ("DAM",), nodal=True),
    (Dataset.LMP, "RT15"): _Query(PRC_RTPD_LMP, 3, ("RTPD",), nodal=True, hourly_chunks=True),
    (Dataset.LMP, "RT5"): _Query(PRC_INTVL_LMP, 3, ("RTM",), nodal=True, hourly_chunks=True),
    (Dataset.AS_PRICE, "DAM"): _Query(PRC_AS, 12, ("DAM",), (("anc_type", "ALL"), ("anc_region", "ALL"))),
    (Dataset.AS_PRICE, "RT15"): _Query(
        PRC_INTVL_AS, 1, ("RTM",), (("anc_type", "ALL"), ("anc_region", "ALL"))
    ),
    (Dataset.LOAD, LoadKind.ACTUAL.value): _Query(SLD_FCST, 1, ("ACTUAL",)),
    (Dataset.LOAD, LoadKind.FORECAST.value): _Query(SLD_FCST, 1, ("DAM", "2DA", "7DA")),
    (Dataset.LOAD, LoadKind.FORECAST_RT15.value): _Query(
        SLD_FCST, 1, ("RTM",), (("execution_type", "RTPD"),)
    ),
    (Dataset.LOAD, LoadKind.FORECAST_RT5.value): _Query(SLD_FCST, 1, ("RTM",), (("execution_type", "RTD"),)),
}


def _oasis_time(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y%m%dT%H:%M-0000")


def trade_day_utc(day: date) -> tuple[datetime, datetime]:
    """UTC bounds [start, end) of a Pacific trade day (23, 24 or 25 hours long)."""
    tz = ZoneInfo(TZ)
    start = datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)
    nxt = day + timedelta(days=1)
    return start, datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz).astimezone(UTC)


TARGETS: tuple[DownloadTarget, ...] = tuple(DownloadTarget(d, m, q.report) for (d, m), q in _QUERIES.items())


class CaisoConnector:
    """Downloads OASIS SingleZip payloads for one Pacific trade day per call."""

    iso = Iso.CAISO

    def __init__(self, settings: CaisoSettings | None = None) -> None:
        self.settings = settings or CaisoSettings()

    @property
    def targets(self) -> tuple[DownloadTarget, ...]:
        """Every (dataset, market) this connector downloads, with its report."""
        return TARGETS

    def _windows(self, query: _Query, day: date) -> list[tuple[datetime, datetime]]:
        start, end = trade_day_utc(day)
        if not (query.hourly_chunks and not self.settings.nodes):
            return [(start, end)]
        # OASIS caps all-pnode real-time queries at one hour.
        hours = int((end - start) / timedelta(hours=1))
        return [(start + timedelta(hours=h), start + timedelta(hours=h + 1)) for h in range(hours)]

    def fetch(self, client: IsoClient, dataset: Dataset, market: str, day: date) -> Iterator[Payload]:
        """Yield the OASIS zips holding `day` (Pacific) for one target; nothing when OASIS has no data."""
        query = _QUERIES.get((dataset, market))
        if query is None:
            raise KeyError(f"CAISO has no download for {dataset.value}/{market}")
        for run in query.runs:
            for start, end in self._windows(query, day):
                params: dict[str, str | int] = {
                    "queryname": query.report.name,
                    "version": query.version,
                    "market_run_id": run,
                    "startdatetime": _oasis_time(start),
                    "enddatetime": _oasis_time(end),
                    "resultformat": 6,
                    **dict(query.extra),
                }
                if query.nodal:
                    if self.settings.nodes:
                        params["node"] = ",".join(self.settings.nodes)
                    else:
                        params["grp_type"] = "ALL_APNODES"
                response = client.get(OASIS_URL, params=params)
                if _is_no_data(response.content):
                    continue
                name = response.filename() or (
                    f"{start:%Y%m%d%H}_{end:%Y%m%d%H}_{query.report.name}_{run}_v{query.version}.zip"
                )
                yield Payload(name=name, data=response.content, report=query.report, url=response.url)


def _is_no_data(content: bytes) -> bool:
    """Whether an OASIS response is its "no data returned" error (other errors are left to the parser)."""
    try:
        files = payload_files(content)
    except ParseError:
        return False
    for _, body in files:
        if body.lstrip()[:1] != b"<":
            return False
        try:
            error = _oasis_error(body)
        except ParseError:
            return False
        if error is None or _NO_DATA not in error.lower():
            return False
    return True


def connector(settings: Settings) -> CaisoConnector:
    """The CAISO connector with the node choice of `settings` (`CARBON254_CAISO_NODES`)."""
    return CaisoConnector(settings.caiso)
