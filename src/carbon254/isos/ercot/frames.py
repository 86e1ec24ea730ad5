"""Reading ERCOT payloads (MIS zip/CSV or Public API JSON pages) into tolerant string frames.

Every ERCOT report reaches the parsers as a Polars frame of strings whose
column names are normalised (lower case, letters and digits only), so that
`DeliveryDate`, `deliveryDate`, `Delivery Date`, `DELIVERY_DATE` and
`"DSTFlag    "` all meet the same name, and the API's JSON page (`fields` +
`data` rows, typed values) meets the same frame as the CSV it mirrors.
Values are stripped of surrounding blanks (ERCOT right-aligns LMPs with
leading spaces). The helpers below convert those strings to typed columns
and raise `ParseError` naming the column and line of the first bad value.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import polars as pl

from carbon254.isos import ISOS, Iso
from carbon254.markets.archive import payload_files
from carbon254.markets.localtime import hour_ending_to_utc, local_to_utc
from carbon254.markets.report import ParseError

TZ = ISOS[Iso.ERCOT].timezone
CSV_MEMBER = re.compile(r"(?i)\.csv$")
# cdr.<report type id>.<16 zeros>.<YYYYMMDD>.<HHMMSS>.<friendly name>: the middle stamp is the
# posting time in Central prevailing time.
CDR_POSTED = re.compile(r"cdr\.\d{8}\.\d{16}\.(\d{8})\.(\d{6})\.")

# Each normalised spelling ERCOT has used, mapped to the one name the parsers use.
ALIASES: dict[str, str] = {
    "deliverydate": "date",
    "operday": "date",
    "operatingday": "date",
    "hourending": "hour",
    "deliveryhour": "hour",
    "deliveryinterval": "interval",
    "dstflag": "repeat",
    "repeatedhourflag": "repeat",
    "repeathourflag": "repeat",
    "settlementpoint": "point",
    "settlementpointname": "point",
    "settlementpointtype": "point_type",
    "settlementpointprice": "price",
    "scedtimestamp": "sced_time",
    "electricalbus": "bus",
    "busname": "bus",
    "ancillarytype": "product",
    "astype": "product",
    "inuseflag": "in_use",
    "posteddatetime": "posted",
}


@dataclass(frozen=True, slots=True)
class Sheet:
    """One table read from a payload: its member name ("" for a bare file or API page), JSON or CSV."""

    name: str
    frame: pl.DataFrame
    is_api: bool


def normalise_name(name: str) -> str:
    """A column name reduced to lower-case letters and digits, then mapped through `ALIASES`."""
    key = re.sub(r"[^0-9a-z]", "", name.lower())
    return ALIASES.get(key, key)


def _tidy(frame: pl.DataFrame, what: str) -> pl.DataFrame:
    names = [normalise_name(c) for c in frame.columns]
    seen: set[str] = set()
    for original, name in zip(frame.columns, names, strict=True):
        if name in seen:
            raise ParseError(f"{what}: column {original!r} repeats another column's meaning ({name})")
        seen.add(name)
    frame = frame.rename(dict(zip(frame.columns, names, strict=True)))
    return frame.with_columns(pl.all().cast(pl.String).str.strip_chars())


def _csv(data: bytes, what: str) -> pl.DataFrame:
    try:
        frame = pl.read_csv(io.BytesIO(data), infer_schema=False, raise_if_empty=True)
    except (pl.exceptions.PolarsError, UnicodeDecodeError) as exc:
        raise ParseError(f"{what}: not a well-formed CSV ({exc})") from None
    return _tidy(frame, what)


def _api_page(data: bytes) -> pl.DataFrame:
    """The `data` rows of a Public API page, columns named by `fields` in order."""
    try:
        page = json.loads(data)
        fields = [f["name"] if isinstance(f, dict) else str(f) for f in page["fields"]]
        rows = page["data"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ParseError(f"ERCOT API page: expected JSON with 'fields' and 'data' ({exc})") from None
    if not isinstance(rows, list) or any(not isinstance(r, list) or len(r) != len(fields) for r in rows):
        raise ParseError(f"ERCOT API page: every data row must be a list of {len(fields)} values")
    try:
        frame = pl.DataFrame(rows, schema=fields, orient="row", infer_schema_length=None, strict=False)
    except (pl.exceptions.PolarsError, TypeError, ValueError) as exc:
        raise ParseError(f"ERCOT API page: data rows do not fit the fields ({exc})") from None
    # Strings throughout, as in the CSV: JSON booleans become Y/N flags, numbers their text.
    frame = frame.with_columns(
        pl.when(pl.col(name)).then(pl.lit("Y")).otherwise(pl.lit("N")).alias(name)
        if frame.schema[name] == pl.Boolean
        else pl.col(name).cast(pl.String)
        for name in frame.columns
    )
    return _tidy(frame, "ERCOT API page")


def read_sheets(data: bytes, what: str) -> list[Sheet]:
    """Every table in a payload: each CSV member of a zip, a bare CSV, or one API JSON page."""
    if data.lstrip()[:1] == b"{":
        return [Sheet("", _api_page(data), True)]
    return [Sheet(name, _csv(body, what), False) for name, body in payload_files(data, CSV_MEMBER)]


def read_frame(data: bytes, what: str, required: Iterable[str]) -> pl.DataFrame:
    """All rows of a payload as one normalised string frame that has every `required` column."""
    sheets = read_sheets(data, what)
    for sheet in sheets:
        require(sheet.frame, required, what)
    return pl.concat([s.frame for s in sheets], how="diagonal") if len(sheets) > 1 else sheets[0].frame


def require(frame: pl.DataFrame, required: Iterable[str], what: str) -> None:
    """Raise `ParseError` naming the columns (normalised names) the layout needs but the file lacks."""
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ParseError(
            f"{what}: missing column(s) {', '.join(missing)}; found {', '.join(frame.columns) or 'none'}"
        )


def _first_bad(frame: pl.DataFrame, bad: pl.Series, column: str, what: str, expected: str) -> None:
    if bad.any():
        row = int(bad.arg_max() or 0)
        raise ParseError(
            f"{what}: data row {row + 1} (CSV line {row + 2}), column {column}: "
            f"{frame[column][row]!r} is not {expected}"
        )


def number(frame: pl.DataFrame, column: str, what: str) -> pl.Series:
    """Column `column` as Float64; a blank or non-numeric value raises `ParseError` ($/MWh, MW as given)."""
    raw = frame[column]
    values = raw.cast(pl.Float64, strict=False)
    _first_bad(frame, values.is_null(), column, what, "a number")
    return values


def text(frame: pl.DataFrame, column: str, what: str) -> pl.Series:
    """Column `column` as non-blank strings; a blank raises `ParseError`."""
    raw = frame[column]
    _first_bad(frame, raw.is_null() | (raw == ""), column, what, "a non-blank name")
    return raw


def flag(frame: pl.DataFrame, column: str, what: str) -> pl.Series:
    """A Y/N flag (`DSTFlag`, `RepeatedHourFlag`, `InUseFlag`) as booleans; anything else is an error."""
    upper = frame[column].str.to_uppercase()
    _first_bad(frame, ~upper.is_in(["Y", "N"]).fill_null(False), column, what, "Y or N")
    return upper == "Y"


def market_date(frame: pl.DataFrame, column: str, what: str) -> pl.Series:
    """A delivery/operating date, `MM/DD/YYYY` (MIS) or `YYYY-MM-DD` (API), as Date."""
    parsed = frame.select(
        pl.coalesce(
            pl.col(column).str.to_date("%m/%d/%Y", strict=False),
            pl.col(column).str.to_date("%Y-%m-%d", strict=False),
        )
    ).to_series()
    _first_bad(frame, parsed.is_null(), column, what, "a date")
    return parsed


def wall_clock(frame: pl.DataFrame, column: str, what: str) -> pl.Series:
    """A local timestamp, `MM/DD/YYYY HH:MM:SS` (MIS) or ISO `YYYY-MM-DDTHH:MM:SS` (API), naive."""
    parsed = frame.select(
        pl.coalesce(
            pl.col(column).str.to_datetime("%m/%d/%Y %H:%M:%S", time_unit="us", strict=False),
            pl.col(column).str.to_datetime("%m/%d/%Y %H:%M", time_unit="us", strict=False),
            pl.col(column)
            .str.slice(0, 19)
            .str.to_datetime("%Y-%m-%dT%H:%M:%S", time_unit="us", strict=False),
        )
    ).to_series()
    _first_bad(frame, parsed.is_null(), column, what, "a timestamp")
    return parsed


def hour_number(frame: pl.DataFrame, column: str, what: str) -> pl.Series:
    """An hour-ending label as 1..24: `"01:00".."24:00"`, `"1".."24"` or an API integer."""
    raw = frame[column]
    hours = raw.str.split(":").list.first().cast(pl.Int64, strict=False)
    minutes_ok = raw.str.contains(r"^\d{1,2}(:00)?$").fill_null(False)
    _first_bad(frame, hours.is_null() | ~minutes_ok, column, what, "an hour-ending label like 01:00")
    return hours


def hour_ending(frame: pl.DataFrame, what: str) -> tuple[pl.Series, pl.Series]:
    """UTC (start, end) of the rows' `date` + hour-ending `hour`, the repeated hour flagged by `repeat`.

    ERCOT labels hours 01:00..24:00 in Central prevailing time; on the
    fall-back day the second HE 02 carries `DSTFlag = Y`; on the
    spring-forward day HE 02 is absent (23 hours).
    """
    return hour_ending_to_utc(
        market_date(frame, "date", what),
        hour_number(frame, "hour", what),
        TZ,
        second_occurrence=flag(frame, "repeat", what),
    )


def sced_interval(frame: pl.DataFrame, what: str) -> tuple[pl.Series, pl.Series]:
    """UTC (start, end) of each SCED run: start is the run's timestamp, end 5 minutes later.

    SCED runs roughly every 5 minutes at irregular seconds (00:40:18); its
    prices hold until the next run, so the nominal interval is the run's own
    timestamp plus 5 minutes. `RepeatedHourFlag = Y` marks timestamps of the
    second (CST) pass through the fall-back hour.
    """
    start = local_to_utc(
        wall_clock(frame, "sced_time", what),
        TZ,
        second_occurrence=flag(frame, "repeat", what),
        what=f"{what} SCED timestamp",
    )
    return start, start + timedelta(minutes=5)


def posted_at(member: str) -> pl.Series | None:
    """The UTC posting time encoded in an ERCOT `cdr.` file name, if the name has one."""
    found = CDR_POSTED.search(member)
    if found is None:
        return None
    naive = pl.Series([f"{found.group(1)}{found.group(2)}"]).str.to_datetime("%Y%m%d%H%M%S", time_unit="us")
    return local_to_utc(naive, TZ, what="posting time")
