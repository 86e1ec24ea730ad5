"""PJM: Data Miner 2 feeds (LMP, reserve prices, load) and RPM Base Residual Auction clearing prices.

Data Miner 2 serves every feed at `https://api.pjm.com/api/v1/<feed>` as paged JSON
(`items`, `totalRows`, `links` with `rel == "next"`), paged by `startRow` (1-based) and
`rowCount` (at most 50,000). Every call needs a subscription key in the
`Ocp-Apim-Subscription-Key` header; it is the setting `CARBON254_PJM_API_KEY`
(`Settings.pjm.api_key`), which `connector(settings)` hands to the connector. Without a
key, `fetch` raises `MissingApiKey` (a `FetchError`) before any request; the key is never
logged nor put in a URL. Non-member accounts may make about 6 requests a minute: use
`RECOMMENDED_TRANSPORT` (one request every 10 s) for real downloads.

Reports and store markets:

| report | dataset | market |
|---|---|---|
| `da_hrl_lmps` | lmp | DAM |
| `rt_hrl_lmps` | lmp | RTH |
| `rt_fivemin_hrl_lmps` | lmp | RT5 |
| `da_reserve_market_results` | as_price | DAM |
| `reserve_market_results` | as_price | RT5 (hourly rows before 2022-09-01) |
| `hrl_load_metered` | load | actual |
| `load_frcstd_7_day` | load | forecast |
| `rpm_bra_results` | capacity_price | BRA |

Load targets are named by the load `kind` (`actual`, `forecast`) and the capacity target
`BRA` (its rows' `auction` is e.g. `BRA 2025/2026`): no common market name fits them.

Time: every Data Miner row carries `datetime_beginning_utc` (hour- or interval-BEGINNING,
UTC) next to `datetime_beginning_ept` (Eastern prevailing, which repeats the fall-back
01:00 hour); the UTC field is the authority and the EPT one is ignored. Parsers read the
JSON page as served, the `download=true` JSON row array, and the CSV download of the same
feed (whose times look like `11/3/2024 5:00:00 AM`).

Versions: LMP feeds carry `row_is_current` and `version_nbr`. Parsers keep only current
rows (the connector also asks for `row_is_current=TRUE`), and if a payload still holds
several versions of one (node, hour), the highest `version_nbr` wins. A later correction
is thus a new version of the stored row, which the store keeps as a revision.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import polars as pl
import pyarrow as pa

from carbon254.isos import Iso
from carbon254.isos.pjm import DECLARATION
from carbon254.isos.pjm.settings import PjmSettings
from carbon254.markets.canonical import canonical_table
from carbon254.markets.connector import DownloadTarget, Payload
from carbon254.markets.report import ParseError, Parser, Report
from carbon254.markets.transport import FetchError, IsoClient, TransportConfig
from carbon254.schema import Dataset, LoadKind, LocationType

if TYPE_CHECKING:
    from carbon254.config import Settings

API_BASE = "https://api.pjm.com/api/v1"
BRA_BASE = "https://www.pjm.com/-/media/DotCom/markets-ops/rpm/rpm-auction-info"
KEY_HEADER = "Ocp-Apim-Subscription-Key"
KEY_ENV = "CARBON254_PJM_API_KEY"
EASTERN = ZoneInfo("America/New_York")
MAX_ROW_COUNT = 50_000

# One request per 10 s keeps a non-member account under PJM's ~6 requests/minute cap.
RECOMMENDED_TRANSPORT = TransportConfig(min_interval_s=DECLARATION.min_request_interval_s)

# Real-time reserve results went from hourly to 5-minute rows on 2022-09-01 (Eastern).
RT_RESERVE_FIVE_MINUTE_FROM = datetime(2022, 9, 1, 4, tzinfo=UTC)

# Data Miner `type` values; RESIDUAL_METERED_EDC pnodes are the metered EDC zones.
_LOCATION_TYPES = {
    "HUB": LocationType.HUB,
    "ZONE": LocationType.ZONE,
    "RESIDUAL_METERED_EDC": LocationType.ZONE,
    "INTERFACE": LocationType.INTERFACE,
    "EXT": LocationType.INTERFACE,
    "TIE": LocationType.INTERFACE,
    "GEN": LocationType.GEN,
    "LOAD": LocationType.LOAD,
    "AGGREGATE": LocationType.NODE,
    "BUS": LocationType.NODE,
    "EHV": LocationType.NODE,
}

_JSON_TIME = "%Y-%m-%dT%H:%M:%S"
_CSV_TIME = "%m/%d/%Y %I:%M:%S %p"


class MissingApiKey(FetchError):
    """Data Miner 2 was asked for data but no subscription key is configured."""


# --------------------------------------------------------------------------- reading payloads


def _rows(data: bytes, columns: list[str], optional: tuple[str, ...] = ()) -> pl.DataFrame:
    """The payload's rows as strings: `columns` (required) plus whichever `optional` are present.

    Accepts a Data Miner JSON page, a `download=true` JSON row array, or the feed's CSV
    download. Values are kept as text so JSON and CSV go through the same typed casts.
    """
    text = data.lstrip()
    if not text:
        raise ParseError("the payload is empty")
    if text[:1] in (b"{", b"["):
        return _json_rows(text, columns, optional)
    try:
        frame = pl.read_csv(text, infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        raise ParseError(f"not a readable CSV download ({exc})") from None
    frame = frame.rename({c: c.strip().lower() for c in frame.columns})
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ParseError(f"CSV header lacks column(s) {', '.join(missing)}; header: {frame.columns}")
    return frame.select(columns + [c for c in optional if c in frame.columns])


def _json_rows(text: bytes, columns: list[str], optional: tuple[str, ...]) -> pl.DataFrame:
    """Rows of a Data Miner JSON page (`{"items": [...]}`) or row array, read natively by Polars.

    Every wanted field is read as text; a required field that no row carries is a layout error,
    and an optional one no row carries is dropped (treated as absent).
    """
    fields = pl.Struct(dict.fromkeys(columns + list(optional), pl.String))
    try:
        if text[:1] == b"[":
            frame = pl.read_json(io.BytesIO(text), schema=dict(fields.to_schema()))
        elif b'"items"' in text:
            doc = pl.read_json(io.BytesIO(text), schema={"items": pl.List(fields)})
            frame = doc.select(pl.col("items").explode()).unnest("items")
        else:
            doc = json.loads(text)
            problem = doc.get("errors") if isinstance(doc, dict) else None
            raise ParseError(
                f"Data Miner returned errors or no `items` list{f': {problem}' if problem else ''}"
            )
    except (pl.exceptions.PolarsError, ValueError) as exc:
        if isinstance(exc, ParseError):
            raise
        raise ParseError(f"not a readable Data Miner JSON page ({exc})") from None
    frame = frame.filter(~pl.all_horizontal(pl.all().is_null()))
    if frame.height == 0:
        return frame.select(columns)
    empty = [c for c in frame.columns if frame[c].null_count() == frame.height]
    missing = [c for c in columns if c in empty]
    if missing:
        raise ParseError(f"rows lack field(s) {', '.join(missing)}")
    return frame.drop([c for c in empty if c in optional])


# Fields Data Miner sends as JSON numbers that the parsers read as text.
_NUMBERS_AS_TEXT = ("version_nbr",)


def _strict_rows(text: bytes, schema: dict[str, pl.DataType]) -> pl.DataFrame | None:
    """The rows of a compact Data Miner JSON page read strictly by type, or None to read it otherwise.

    Polars' newline-delimited JSON reader, given a schema, refuses any value of the wrong
    JSON type (a `true` in a number field, a text in a number or flag field) and turns a
    number in a text field into the same text the string path reads. It splits the input at
    newlines and parses the parts on every core: a 50,000-row page (18 MB) reads in about
    50 ms, where Polars' reader of the whole page took 80-110 ms and Arrow's JSON reader
    75 ms on one core, 95-155 ms on two busy ones (measured on a 2-core host). So the page's
    `items` array is cut into one line per row at the `},{` between rows. Anything that does
    not fit (pretty-printed JSON, a `},{` inside a string, a nested value in a typed field, a
    wrong type) fails to parse, and the caller reads the page with Polars' page reader.
    """
    if text[:1] == b"[":
        first, end = 1, text.rfind(b"]")
    elif text[:1] == b"{" and (opening := text.find(b'"items":[')) >= 0:
        first = opening + len(b'"items":[')
        end = text.rfind(b"}]") + 1
        # After the array comes page metadata, never another row (a row names every column).
        if end <= first or text.find(f'"{next(iter(schema))}"'.encode(), end) >= 0:
            return None
    else:
        return None
    body = text[first:end]
    if not body.startswith(b"{") or not body.endswith(b"}"):
        return None
    # Every field read is typed, so no other is parsed; the JSON numbers shown as text are read
    # as integers (a text there fails, as on the string path's strict sibling) and shown after.
    typed = {name: pl.Int64() if name in _NUMBERS_AS_TEXT else kind for name, kind in schema.items()}
    try:
        # A line that is not exactly one row object fails to parse, so every row is accounted for.
        frame = pl.read_ndjson(io.BytesIO(body.replace(b"},{", b"}\n{")), schema=typed)
    except (pl.exceptions.PolarsError, ValueError):
        return None
    return frame.with_columns(pl.col(n).cast(pl.String) for n in _NUMBERS_AS_TEXT if n in schema)


def _typed_rows(
    data: bytes,
    columns: list[str],
    optional: tuple[str, ...],
    *,
    numbers: tuple[str, ...] = (),
    times: tuple[str, ...] = (),
    flags: tuple[str, ...] = (),
    nullable: bool = False,
) -> pl.DataFrame | None:
    """The fast path of `_rows` (then `_numbers`, `_utc`, `_flag`): the payload read with real types.

    Reading every JSON field as text and casting it afterwards was 75-85% of a Data Miner
    page's parse; Polars reads numbers and booleans straight into Float64/Boolean. `numbers`
    come back as Float64, `times` as UTC datetimes (the single format of the payload's kind)
    and `flags` as Boolean. Returns None whenever the payload is anything but clean (a read
    error, a null where `_rows`/`_numbers` would object, a value the typed read would coerce,
    an unreadable time): the caller then takes the string path, which says what is wrong
    exactly as before.
    """
    text = data.lstrip()
    wanted = columns + list(optional)
    if text[:1] in (b"{", b"["):
        schema: dict[str, pl.DataType] = {c: pl.String() for c in wanted}
        schema.update({c: pl.Float64() for c in numbers if c in schema})
        schema.update({c: pl.Boolean() for c in flags if c in schema})
        strict = _strict_rows(text, schema)
        try:
            if strict is not None:
                frame = strict
            elif text[:1] == b"[":
                frame = pl.read_json(io.BytesIO(text), schema=schema)
            elif b'"items"' in text:
                doc = pl.read_json(io.BytesIO(text), schema={"items": pl.List(pl.Struct(schema))})
                frame = doc["items"].explode().struct.unnest()
            else:
                return None
        except (pl.exceptions.PolarsError, ValueError):
            return None
        if frame.height == 0:
            return None
        # A JSON true/false read into Float64 becomes 1.0/0.0 where the string path fails (the
        # strict reader refuses it, so this is only for Polars' reading). So if
        # a number field holds 1.0 (0.0), the `true` (`false`) tokens from the rows' start
        # (`"items"`) to the last `]` (after which only page metadata such as
        # `searchSpecification` can follow) must all be the Boolean fields' True (False) values.
        # Gated on the values, since each scan of a page costs ~10 ms.
        first = text.find(b'"items"') if text[:1] == b"{" else 0
        last = text.rfind(b"]")
        read = [c for c in numbers if c in schema]
        bools = [c for c in flags if c in schema]
        for token, value in ((b"true", 1.0), (b"false", 0.0)) if strict is None else ():
            if not frame.select(pl.any_horizontal((pl.col(read) == value).any())).item():
                continue
            expected = sum(int((frame[c] == bool(value)).sum()) for c in bools)
            if text.count(token, first, last) != expected:
                return None
        # `_json_rows` drops optional fields no row carries; any other null takes the string path.
        drop = [c for c in optional if frame[c].null_count() == frame.height]
        frame = frame.drop(drop)
        for c in frame.columns:
            nulls = frame[c].null_count()
            if nulls and not (nullable and c in numbers and nulls < frame.height):
                return None
        time_format = _JSON_TIME
    else:
        try:
            frame = pl.read_csv(text, infer_schema=False)
        except pl.exceptions.PolarsError:
            return None
        frame = frame.rename({c: c.strip().lower() for c in frame.columns})
        if any(c not in frame.columns for c in columns) or frame.height == 0:
            return None
        frame = frame.select(c for c in wanted if c in frame.columns)
        present = [c for c in frame.columns if c not in numbers or not nullable]
        if any(frame[c].null_count() for c in present):
            return None
        kept = [c for c in numbers if c in frame.columns]
        cast = frame.select(pl.col(kept).cast(pl.Float64, strict=False))
        if any(cast[c].null_count() != frame[c].null_count() for c in kept):
            return None
        booleans = [c for c in flags if c in frame.columns]
        lowered = frame.select(pl.col(booleans).str.to_lowercase())
        if not all(lowered[c].is_in(["true", "false"]).all() for c in booleans):
            return None
        frame = frame.with_columns(cast).with_columns((lowered[c] == "true").alias(c) for c in booleans)
        time_format = _CSV_TIME
    stamps = [c for c in times if c in frame.columns]
    parsed = frame.select(
        pl.col(stamps).str.to_datetime(time_format, time_unit="us", strict=False).dt.replace_time_zone("UTC")
    )
    if any(parsed[c].null_count() for c in stamps):
        return None
    return frame.with_columns(parsed)


def _utc(frame: pl.DataFrame, column: str) -> pl.Series:
    """A UTC timestamp column in either the JSON (`2024-11-03T05:00:00[.fff]`) or CSV form."""
    raw = frame[column].str.strip_chars()
    parsed = frame.select(
        pl.coalesce(
            raw.str.slice(0, 19).str.strptime(pl.Datetime("us"), _JSON_TIME, strict=False),
            raw.str.strptime(pl.Datetime("us"), _CSV_TIME, strict=False),
        ).alias(column)
    )[column]
    bad = parsed.is_null() & raw.is_not_null()
    if bad.any() or raw.is_null().any():
        row = int((bad | raw.is_null()).arg_max() or 0)
        raise ParseError(f"row {row + 1}: {column} {raw[row]!r} is not a date-time")
    return parsed.dt.replace_time_zone("UTC")


def _numbers(frame: pl.DataFrame, columns: list[str], *, nullable: bool = False) -> pl.DataFrame:
    """`columns` cast to Float64; a non-numeric value (or a null, unless allowed) raises ParseError."""
    out = frame.with_columns(pl.col(columns).str.strip_chars().cast(pl.Float64, strict=False))
    for c in columns:
        bad = out[c].is_null() if not nullable else out[c].is_null() & frame[c].is_not_null()
        if bad.any():
            row = int(bad.arg_max() or 0)
            raise ParseError(f"row {row + 1}: {c} {frame[c][row]!r} is not a number")
    return out


def _flag(column: str) -> pl.Expr:
    """A TRUE/FALSE text column (JSON `true`, CSV `True`) as a boolean expression."""
    return pl.col(column).str.strip_chars().str.to_lowercase() == "true"


def _may_repeat(frame: pl.DataFrame) -> bool:
    """Whether the version sort and (location, interval) dedup can change `frame`.

    Not when every row has the same version and the (location, interval) hashes are all
    distinct (so the keys are too): that check costs a fraction of the sort + unique.
    """
    versions = frame["version_nbr"]
    if versions.n_unique() > 1:
        return True
    keys = frame.select(pl.col("location").hash(1) ^ pl.col("interval_start").hash(2)).to_series()
    return bool(keys.n_unique() != frame.height)


def _interval_end(frame: pl.DataFrame, start: pl.Series, length: timedelta | pl.Series) -> pl.Series:
    """The interval end: `datetime_ending_utc` when the feed gives it, else start + length."""
    if "datetime_ending_utc" in frame.columns:
        return _utc(frame, "datetime_ending_utc")
    return start + length


# --------------------------------------------------------------------------- LMP


def _lmp_parser(suffix: str, market: str, length: timedelta) -> Parser:
    """A parser for an LMP feed whose price fields end in `_da` or `_rt`."""
    total, congestion, loss, energy = (
        f"total_lmp_{suffix}",
        f"congestion_price_{suffix}",
        f"marginal_loss_price_{suffix}",
        f"system_energy_price_{suffix}",
    )

    def parse(data: bytes) -> pa.Table:
        """LMP rows ($/MWh) of the feed; PJM's sign convention already is lmp = energy + congestion + loss.

        Intervals start at `datetime_beginning_utc` (UTC) and last `length` (or end at
        `datetime_ending_utc`). Only current versions are kept (see the module docstring).
        Where a feed omits the system energy price, energy = lmp - congestion - loss.
        """
        columns = ["datetime_beginning_utc", "pnode_name", "type", total, congestion, loss]
        optional = (energy, "row_is_current", "version_nbr", "datetime_ending_utc")
        rows = _typed_rows(
            data,
            columns,
            optional,
            numbers=(total, congestion, loss, energy),
            times=("datetime_beginning_utc", "datetime_ending_utc"),
            flags=("row_is_current",),
        )
        if rows is None:  # not clean: the string path names the bad value
            rows = _rows(data, columns, optional)
            if "row_is_current" in rows.columns:
                rows = rows.filter(_flag("row_is_current") | pl.col("row_is_current").is_null())
            rows = _numbers(rows, [total, congestion, loss] + ([energy] if energy in rows.columns else []))
            rows = rows.with_columns(_utc(rows, "datetime_beginning_utc"))
            if "datetime_ending_utc" in rows.columns:
                rows = rows.with_columns(_utc(rows, "datetime_ending_utc"))
        elif "row_is_current" in rows.columns:
            rows = rows.filter(pl.col("row_is_current"))
        start = pl.col("datetime_beginning_utc")
        # Map each distinct `type` once instead of stripping and upper-casing every row.
        kinds = {
            t: _LOCATION_TYPES.get(t.strip().upper(), LocationType.NODE).value
            for t in rows["type"].unique().drop_nulls()
        }
        frame = rows.with_columns(
            interval_start=start,
            interval_end=pl.col("datetime_ending_utc")
            if "datetime_ending_utc" in rows.columns
            else start + length,
            location=pl.col("pnode_name").str.strip_chars(),
            location_type=pl.col("type").replace_strict(
                kinds, default=LocationType.NODE.value, return_dtype=pl.String
            ),
            lmp=pl.col(total),
            congestion=pl.col(congestion),
            loss=pl.col(loss),
            energy=pl.col(energy)
            if energy in rows.columns
            else pl.col(total) - pl.col(congestion) - pl.col(loss),
            iso=pl.lit(Iso.PJM.value),
            market=pl.lit(market),
        )
        blank = frame["location"].is_null() | (frame["location"] == "")
        if blank.any():
            raise ParseError(f"row {int(blank.arg_max() or 0) + 1}: pnode_name is empty")
        if "version_nbr" in frame.columns and _may_repeat(frame):
            frame = frame.sort(pl.col("version_nbr").cast(pl.Int64, strict=False), nulls_last=False).unique(
                ["location", "interval_start"], keep="last", maintain_order=True
            )
        return canonical_table(Dataset.LMP, frame)

    return parse


# --------------------------------------------------------------------------- ancillary services


def _reserve_parser(market: str, length: Callable[[pl.Series], pl.Series]) -> Parser:
    """A parser for the DA or RT reserve market results feeds (one row per locale and service)."""

    def parse(data: bytes) -> pa.Table:
        """Reserve clearing prices ($/MW-h), one row per (locale, product, interval).

        `region` is PJM's `locale` (e.g. `PJM_RTO`, `MAD`) and `product` its `service`
        (`REG`, `SR`, `PR`, `30MIN`) priced at `mcp`; regulation rows also give the
        capability and performance clearing prices as products `REG_CCP` and `REG_PCP`.
        Rows with no price published are left out. Intervals start at
        `datetime_beginning_utc`.
        """
        rows = _rows(
            data,
            ["datetime_beginning_utc", "locale", "service", "mcp"],
            ("reg_ccp", "reg_pcp", "datetime_ending_utc"),
        )
        parts = ["mcp"] + [c for c in ("reg_ccp", "reg_pcp") if c in rows.columns]
        rows = _numbers(rows, parts, nullable=True)
        start = _utc(rows, "datetime_beginning_utc")
        base = rows.with_columns(
            interval_start=start,
            interval_end=_interval_end(rows, start, length(start)),
            region=pl.col("locale").str.strip_chars(),
            service=pl.col("service").str.strip_chars(),
        )
        suffix = {"mcp": "", "reg_ccp": "_CCP", "reg_pcp": "_PCP"}
        frame = pl.concat(
            [
                base.select(
                    "interval_start",
                    "interval_end",
                    "region",
                    product=pl.col("service") + pl.lit(suffix[c]),
                    price=pl.col(c),
                )
                for c in parts
            ]
        ).filter(pl.col("price").is_not_null())
        frame = frame.with_columns(iso=pl.lit(Iso.PJM.value), market=pl.lit(market))
        return canonical_table(Dataset.AS_PRICE, frame)

    return parse


def _hourly(start: pl.Series) -> pl.Series:
    return pl.repeat(timedelta(hours=1), len(start), eager=True)


def _rt_reserve_length(start: pl.Series) -> pl.Series:
    """5 minutes from 2022-09-01 on, one hour before (PJM changed the feed's granularity then)."""
    frame = pl.DataFrame({"s": start})
    return frame.select(
        pl.when(pl.col("s") >= RT_RESERVE_FIVE_MINUTE_FROM)
        .then(pl.lit(timedelta(minutes=5)))
        .otherwise(pl.lit(timedelta(hours=1)))
        .alias("len")
    )["len"]


# --------------------------------------------------------------------------- load


def parse_load_metered(data: bytes) -> pa.Table:
    """Metered hourly load (MW) by load area from `hrl_load_metered`, kind `actual`.

    `zone` is PJM's `load_area` (the finest split, e.g. `AECO`, `AEPAPT`, and `RTO` for
    the whole footprint), since several load areas share one transmission `zone`.
    Hours start at `datetime_beginning_utc`.
    """
    rows = _numbers(
        _rows(data, ["datetime_beginning_utc", "load_area", "mw"], ("datetime_ending_utc",)), ["mw"]
    )
    start = _utc(rows, "datetime_beginning_utc")
    frame = rows.with_columns(
        interval_start=start,
        interval_end=_interval_end(rows, start, timedelta(hours=1)),
        zone=pl.col("load_area").str.strip_chars(),
        kind=pl.lit(LoadKind.ACTUAL.value),
        iso=pl.lit(Iso.PJM.value),
    )
    return canonical_table(Dataset.LOAD, frame)


def parse_load_forecast(data: bytes) -> pa.Table:
    """Seven-day hourly load forecast (MW) by forecast area from `load_frcstd_7_day`, kind `forecast`.

    `zone` is `forecast_area` (e.g. `RTO_COMBINED`, `AEP`); `forecast_issued_at` is the
    forecast's `evaluated_at_datetime_utc` (UTC). Hours run from
    `forecast_datetime_beginning_utc` to `forecast_datetime_ending_utc` (or one hour).
    """
    rows = _rows(
        data,
        ["evaluated_at_datetime_utc", "forecast_datetime_beginning_utc", "forecast_area", "forecast_load_mw"],
        ("forecast_datetime_ending_utc",),
    )
    rows = _numbers(rows, ["forecast_load_mw"])
    start = _utc(rows, "forecast_datetime_beginning_utc")
    if "forecast_datetime_ending_utc" in rows.columns:
        end = _utc(rows, "forecast_datetime_ending_utc")
    else:
        end = start + timedelta(hours=1)
    frame = rows.with_columns(
        interval_start=start,
        interval_end=end,
        forecast_issued_at=_utc(rows, "evaluated_at_datetime_utc"),
        zone=pl.col("forecast_area").str.strip_chars(),
        mw=pl.col("forecast_load_mw"),
        kind=pl.lit(LoadKind.FORECAST.value),
        iso=pl.lit(Iso.PJM.value),
    )
    return canonical_table(Dataset.LOAD, frame)


# --------------------------------------------------------------------------- capacity

_BRA_COLUMNS = ["Delivery Year", "LDA", "Resource Clearing Price ($/MW-day)"]


def parse_bra_results(data: bytes) -> pa.Table:
    """RPM Base Residual Auction resource clearing prices ($/MW-day) by LDA.

    Reads a CSV of PJM's BRA results table: `Delivery Year` (`2025/2026`), `LDA` (`RTO`,
    `MAAC`, `EMAAC`, `ComEd`, `BGE`, `DOM`, ...) and `Resource Clearing Price ($/MW-day)`.
    `auction` is `BRA <delivery year>`; delivery runs from June 1 00:00 to the next June 1
    00:00 Eastern prevailing time (the June 1 - May 31 delivery year), stored in UTC.
    """
    text = data.lstrip()
    if not text:
        raise ParseError("the payload is empty")
    try:
        rows = pl.read_csv(text, infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        raise ParseError(f"not a readable CSV ({exc})") from None
    rows = rows.rename({c: c.strip() for c in rows.columns})
    missing = [c for c in _BRA_COLUMNS if c not in rows.columns]
    if missing:
        raise ParseError(f"BRA results lack column(s) {', '.join(missing)}; header: {rows.columns}")
    rows = _numbers(rows.select(_BRA_COLUMNS), ["Resource Clearing Price ($/MW-day)"])
    years = rows["Delivery Year"].str.strip_chars().str.extract_groups(r"^(\d{4})\s*/\s*(\d{4})$")
    first = years.struct.field("1").cast(pl.Int32)
    bad = first.is_null() | (years.struct.field("2").cast(pl.Int32) != first + 1)
    if bad.any():
        row = int(bad.arg_max() or 0)
        raise ParseError(f"row {row + 1}: Delivery Year {rows['Delivery Year'][row]!r} is not like 2025/2026")
    june = pl.DataFrame({"y": first}).select(
        start=pl.date(pl.col("y"), 6, 1).cast(pl.Datetime("us")),
        end=pl.date(pl.col("y") + 1, 6, 1).cast(pl.Datetime("us")),
    )
    frame = rows.with_columns(
        iso=pl.lit(Iso.PJM.value),
        auction=pl.lit("BRA ") + pl.col("Delivery Year").str.replace_all(r"\s", ""),
        zone=pl.col("LDA").str.strip_chars(),
        price=pl.col("Resource Clearing Price ($/MW-day)"),
        delivery_start=june["start"].dt.replace_time_zone(EASTERN.key).dt.convert_time_zone("UTC"),
        delivery_end=june["end"].dt.replace_time_zone(EASTERN.key).dt.convert_time_zone("UTC"),
    )
    return canonical_table(Dataset.CAPACITY_PRICE, frame)


# --------------------------------------------------------------------------- reports


def _feed_pattern(feed: str) -> re.Pattern[str]:
    return re.compile(rf"^{feed}(?:[-_.]|$)")


def _lmp_report(feed: str, title: str, suffix: str, market: str, length: timedelta) -> Report:
    return Report(
        iso=Iso.PJM,
        name=feed,
        title=title,
        dataset=Dataset.LMP,
        markets=(market,),
        parse=_lmp_parser(suffix, market, length),
        file_pattern=_feed_pattern(feed),
        header=("datetime_beginning_utc", "pnode_name", f"total_lmp_{suffix}", f"congestion_price_{suffix}"),
        interval=length,
        cadence=timedelta(hours=1) if length == timedelta(minutes=5) else timedelta(days=1),
    )


DA_HRL_LMPS = _lmp_report("da_hrl_lmps", "Day-ahead hourly LMPs", "da", "DAM", timedelta(hours=1))
RT_HRL_LMPS = _lmp_report("rt_hrl_lmps", "Real-time hourly LMPs", "rt", "RTH", timedelta(hours=1))
RT_FIVEMIN_HRL_LMPS = _lmp_report(
    "rt_fivemin_hrl_lmps", "Real-time 5-minute LMPs", "rt", "RT5", timedelta(minutes=5)
)
DA_RESERVE_MARKET_RESULTS = Report(
    iso=Iso.PJM,
    name="da_reserve_market_results",
    title="Day-ahead reserve market results",
    dataset=Dataset.AS_PRICE,
    markets=("DAM",),
    parse=_reserve_parser("DAM", _hourly),
    file_pattern=_feed_pattern("da_reserve_market_results"),
    header=("datetime_beginning_utc", "locale", "service", "mcp", "as_req_mw"),
    interval=timedelta(hours=1),
    cadence=timedelta(days=1),
)
RESERVE_MARKET_RESULTS = Report(
    iso=Iso.PJM,
    name="reserve_market_results",
    title="Real-time reserve market results",
    dataset=Dataset.AS_PRICE,
    markets=("RT5",),
    parse=_reserve_parser("RT5", _rt_reserve_length),
    file_pattern=_feed_pattern("reserve_market_results"),
    header=("datetime_beginning_utc", "locale", "service", "mcp", "reg_ccp"),
    interval=timedelta(minutes=5),
    cadence=timedelta(days=1),
)
HRL_LOAD_METERED = Report(
    iso=Iso.PJM,
    name="hrl_load_metered",
    title="Hourly metered load",
    dataset=Dataset.LOAD,
    markets=(LoadKind.ACTUAL.value,),
    parse=parse_load_metered,
    file_pattern=_feed_pattern("hrl_load_metered"),
    header=("datetime_beginning_utc", "load_area", "mw", "is_verified"),
    interval=timedelta(hours=1),
    cadence=timedelta(days=1),
)
LOAD_FRCSTD_7_DAY = Report(
    iso=Iso.PJM,
    name="load_frcstd_7_day",
    title="Seven-day load forecast",
    dataset=Dataset.LOAD,
    markets=(LoadKind.FORECAST.value,),
    parse=parse_load_forecast,
    file_pattern=_feed_pattern("load_frcstd_7_day"),
    header=("evaluated_at_datetime_utc", "forecast_area", "forecast_load_mw"),
    interval=timedelta(hours=1),
    cadence=timedelta(minutes=30),
)
BRA_RESULTS = Report(
    iso=Iso.PJM,
    name="rpm_bra_results",
    title="RPM Base Residual Auction clearing prices by LDA",
    dataset=Dataset.CAPACITY_PRICE,
    markets=("BRA",),
    parse=parse_bra_results,
    file_pattern=re.compile(r"^\d{4}-\d{4}-base-residual-auction-results\.csv$", re.IGNORECASE),
    header=tuple(_BRA_COLUMNS),
    interval=None,
    cadence=timedelta(days=1),
)

REPORTS: tuple[Report, ...] = (
    DA_HRL_LMPS,
    RT_HRL_LMPS,
    RT_FIVEMIN_HRL_LMPS,
    DA_RESERVE_MARKET_RESULTS,
    RESERVE_MARKET_RESULTS,
    HRL_LOAD_METERED,
    LOAD_FRCSTD_7_DAY,
    BRA_RESULTS,
)


# --------------------------------------------------------------------------- download


@dataclass(frozen=True, slots=True)
class _Feed:
    """How to ask Data Miner for one market day of a report: the time field to filter on."""

    report: Report
    time_field: str
    current_only: bool = False


_FEEDS: dict[tuple[Dataset, str], _Feed] = {
    (Dataset.LMP, "DAM"): _Feed(DA_HRL_LMPS, "datetime_beginning_utc", current_only=True),
    (Dataset.LMP, "RTH"): _Feed(RT_HRL_LMPS, "datetime_beginning_utc", current_only=True),
    (Dataset.LMP, "RT5"): _Feed(RT_FIVEMIN_HRL_LMPS, "datetime_beginning_utc", current_only=True),
    (Dataset.AS_PRICE, "DAM"): _Feed(DA_RESERVE_MARKET_RESULTS, "datetime_beginning_utc"),
    (Dataset.AS_PRICE, "RT5"): _Feed(RESERVE_MARKET_RESULTS, "datetime_beginning_utc"),
    (Dataset.LOAD, LoadKind.ACTUAL.value): _Feed(HRL_LOAD_METERED, "datetime_beginning_utc"),
    (Dataset.LOAD, LoadKind.FORECAST.value): _Feed(LOAD_FRCSTD_7_DAY, "forecast_datetime_beginning_utc"),
}


def market_day_utc(day: date) -> tuple[datetime, datetime]:
    """[start, end) in UTC of an Eastern market day (23, 24 or 25 hours long)."""
    start = datetime(day.year, day.month, day.day, tzinfo=EASTERN).astimezone(UTC)
    nxt = day + timedelta(days=1)
    return start, datetime(nxt.year, nxt.month, nxt.day, tzinfo=EASTERN).astimezone(UTC)


def utc_range_filter(day: date) -> str:
    """Data Miner's inclusive range filter covering the market day's interval starts, in UTC.

    The range ends one minute before the next market day so that Data Miner's inclusive
    end never pulls in the next day's first interval.
    """
    start, end = market_day_utc(day)
    last = end - timedelta(minutes=1)
    return f"{start:%m/%d/%Y %H:%M}to{last:%m/%d/%Y %H:%M}"


def delivery_year_start(day: date) -> int:
    """The first calendar year of the RPM delivery year (June 1 - May 31) holding `day`."""
    return day.year if day.month >= 6 else day.year - 1


def bra_results_url(first_year: int) -> str:
    """Where the BRA results table of delivery year `first_year`/`first_year + 1` is fetched from."""
    span = f"{first_year}-{first_year + 1}"
    return f"{BRA_BASE}/{span}/{span}-base-residual-auction-results.csv"


TARGETS: tuple[DownloadTarget, ...] = (
    *(DownloadTarget(d, m, f.report) for (d, m), f in _FEEDS.items()),
    DownloadTarget(Dataset.CAPACITY_PRICE, "BRA", BRA_RESULTS),
)


class PjmConnector:
    """Downloads PJM Data Miner 2 feeds (paged JSON, `row_count` rows a page) and the BRA results table."""

    iso = Iso.PJM

    def __init__(self, settings: PjmSettings, row_count: int = MAX_ROW_COUNT) -> None:
        self.settings = settings
        self.row_count = row_count

    @property
    def targets(self) -> tuple[DownloadTarget, ...]:
        """Every (dataset, market) this connector downloads."""
        return TARGETS

    def fetch(self, client: IsoClient, dataset: Dataset, market: str, day: date) -> Iterator[Payload]:
        """Payloads holding Eastern market `day` for (dataset, market); nothing when PJM has none yet."""
        if dataset is Dataset.CAPACITY_PRICE and market == "BRA":
            yield from self._fetch_bra(client, day)
            return
        feed = _FEEDS.get((dataset, market))
        if feed is None:
            raise ValueError(f"PJM has no download for {dataset.value}/{market}")
        yield from self._fetch_pages(client, feed, day)

    def _headers(self, url: str) -> dict[str, str]:
        key = self.settings.api_key
        if key is None:
            raise MissingApiKey(
                url, f"PJM Data Miner 2 needs a subscription key: set {KEY_ENV}", status=None, attempts=0
            )
        return {KEY_HEADER: key.get_secret_value()}

    def _fetch_pages(self, client: IsoClient, feed: _Feed, day: date) -> Iterator[Payload]:
        name = feed.report.name
        url = f"{API_BASE}/{name}"
        headers = self._headers(url)
        params: dict[str, str | int] = {
            "startRow": 1,
            "rowCount": self.row_count,
            feed.time_field: utc_range_filter(day),
        }
        if feed.current_only:
            params["row_is_current"] = "TRUE"
        page, seen = 1, 0
        next_url: str | None = url
        while next_url is not None:
            resp = client.get(next_url, params=params if page == 1 else None, headers=headers)
            try:
                doc = json.loads(resp.content)
            except ValueError:
                doc = None
            if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
                # Not a page we can follow: hand it to the parser, which says what is wrong.
                yield Payload(f"{name}_{day:%Y%m%d}_p{page}.json", resp.content, feed.report, resp.url)
                return
            total, items = int(doc.get("totalRows") or 0), doc["items"]
            if not items:
                return
            seen += len(items)
            yield Payload(f"{name}_{day:%Y%m%d}_p{page}.json", resp.content, feed.report, resp.url)
            links = [lk.get("href") for lk in doc.get("links") or [] if lk.get("rel") == "next"]
            next_url = links[0] if links and seen < total else None
            page += 1

    def _fetch_bra(self, client: IsoClient, day: date) -> Iterator[Payload]:
        url = bra_results_url(delivery_year_start(day))
        resp = client.get_published(url)
        if resp is None:
            return  # no auction results posted for that delivery year
        yield Payload(url.rsplit("/", 1)[-1], resp.content, BRA_RESULTS, resp.url)


def connector(settings: Settings) -> PjmConnector:
    """The PJM connector with the Data Miner key of `settings` (`CARBON254_PJM_API_KEY`)."""
    return PjmConnector(settings.pjm)
