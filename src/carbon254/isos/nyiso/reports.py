"""NYISO: MIS public CSV files (no authentication).

Everything comes from `http://mis.nyiso.com/public/csv/<folder>/`: a daily
file `<YYYYMMDD><stem>.csv` for roughly the last week, and for every month a
zip `<YYYYMM01><stem>_csv.zip` holding one daily CSV per day. The fetcher asks
for the daily file when the day is recent (within `NyisoSettings.daily_days`
of today, New York time) and for the monthly archive otherwise; when the first
choice is 404 it tries the other, and from an archive it yields the day's
member (a daily CSV, byte for byte as NYISO publishes it). An archive that
cannot be opened is yielded whole so the parser rejects it and the ingest job
quarantines it.

Reports and store markets:

- `realtime_zone`, `realtime_gen` (RTD, 5-minute) -> `lmp` market `RT5`;
- `damlbmp_zone`, `damlbmp_gen` (day-ahead, hourly) -> `lmp` market `DAM`;
- `damasp` / `rtasp` ancillary-service prices -> `as_price` markets `DAM` / `RT5`;
- `palIntegrated` (hourly integrated actual load) -> `load` kind `actual`;
- `isolf` (ISO load forecast, six days from the file date) -> `load` kind `forecast`.

The 5-minute `pal` file is not read: its instantaneous readings would share
hour-start keys with `palIntegrated` and pose as revisions of it.

Time: stamps are New York prevailing time without offset. Real-time stamps
end their interval, day-ahead, load and forecast stamps start it. A
real-time stamp ends the interval that began at the previous stamp of its
location, so the extra RTD runs NYISO publishes between the 5-minute stamps
(20:13:42) split the regular interval into variable-length ones that never
overlap; a file's first stamp starts at the 5-minute grid point before it
(`_ending_intervals`). Files with a `Time Zone` column (EDT/EST) are
resolved with it; the others list the fall-back hour twice with no flag,
and every 01:xx stamp after the clock went back (per file and location) is
standard time, even an off-grid one whose label appears only once
(`localtime.repeat_order`).

Settings: `NyisoSettings.daily_days` (`CARBON254_NYISO_DAILY_DAYS`, default
7), handed over by `connector(settings)`. NYISO needs no credentials.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import polars as pl
import pyarrow as pa

from carbon254.isos import ISOS, Iso
from carbon254.isos.nyiso.settings import NyisoSettings
from carbon254.markets.archive import is_zip, payload_files, zip_members
from carbon254.markets.canonical import canonical_table
from carbon254.markets.connector import DownloadTarget, Payload
from carbon254.markets.localtime import local_to_utc, repeat_order
from carbon254.markets.report import ParseError, Report
from carbon254.markets.transport import IsoClient
from carbon254.schema import Dataset, LoadKind, LocationType

if TYPE_CHECKING:
    from carbon254.config import Settings

TZ = ISOS[Iso.NYISO].timezone
BASE = "http://mis.nyiso.com/public/csv"

TIME_STAMP = "Time Stamp"
TIME_ZONE = "Time Zone"
NAME = "Name"
LBMP = "LBMP ($/MWHr)"
LOSSES = "Marginal Cost Losses ($/MWHr)"
CONGESTION = "Marginal Cost Congestion ($/MWHr)"
LMP_HEADER = (TIME_STAMP, NAME, "PTID", LBMP, LOSSES, CONGESTION)

# The external proxy buses priced in the zonal files; everything else there is a load zone.
PROXIES = frozenset({"H Q", "NPX", "O H", "PJM"})

# Reserve and regulation capacity prices ($/MW-h). "NYCA Regulation Movement ($/MW)"
# in the real-time file is a per-MW-of-movement price in another unit, so it is not stored.
AS_PRODUCTS = {
    "10 Min Spinning Reserve ($/MWHr)": "SPIN_10",
    "10 Min Non-Synchronous Reserve ($/MWHr)": "NONSYNC_10",
    "30 Min Operating Reserve ($/MWHr)": "OPER_30",
    "NYCA Regulation Capacity ($/MWHr)": "REG_CAP",
}
INTEGRATED_LOAD = "Integrated Load"
FORECAST_TOTAL = "NYISO"

FIVE_MINUTES = timedelta(minutes=5)
ONE_HOUR = timedelta(hours=1)
_FORMATS = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M")
_CSV_MEMBER = re.compile(r"\.csv$", re.IGNORECASE)


# --------------------------------------------------------------------------- reading


def _read_one(
    body: bytes, required: tuple[str, ...], what: str, numbers: dict[str, pl.DataType] | None = None
) -> pl.DataFrame:
    body = body.removeprefix(b"\xef\xbb\xbf").lstrip(b"\r\n\t ")
    if not body:
        raise ParseError(f"{what}: the file is empty")
    try:
        frame = pl.read_csv(io.BytesIO(body), infer_schema=False, schema_overrides=numbers)
    except pl.exceptions.PolarsError as exc:
        raise ParseError(f"{what}: not a well-formed CSV ({exc})") from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ParseError(f"{what}: header lacks column(s) {missing}; it has {frame.columns}")
    if frame.height == 0:
        raise ParseError(f"{what}: the file has a header but no data rows")
    return frame.with_columns(_src=pl.lit(what), _row=pl.int_range(1, pl.len() + 1))


def _read(data: bytes, required: tuple[str, ...], what: str, numbers: tuple[str, ...] = ()) -> pl.DataFrame:
    """Every daily CSV of a payload (the payload, or each member of a monthly archive): strings,
    except `numbers`, read as Float64 when every file allows it.

    The files are stacked into one frame so each step runs once per payload;
    `_src` (file) and `_row` (its 1-based data row) say where a bad value
    sat, and `_src` keeps each file's fall-back hour apart. Blank lines some
    copies start with are skipped.
    """
    files = payload_files(data, _CSV_MEMBER)
    if numbers:
        # `numbers` read straight as Float64 (casting the text afterwards cost a fifth of the
        # parse); a file that does not read that way sends the payload down the text path,
        # whose `_numbers` names the bad cell.
        typed: dict[str, pl.DataType] = dict.fromkeys(numbers, pl.Float64())
        try:
            frames = [_read_one(body, required, f"{what} {name}".strip(), typed) for name, body in files]
            return pl.concat(frames, how="diagonal")
        except (ParseError, pl.exceptions.PolarsError):
            pass
    frames = [_read_one(body, required, f"{what} {name}".strip()) for name, body in files]
    return pl.concat(frames, how="diagonal")


def _where(frame: pl.DataFrame, row: int) -> str:
    return f"{frame['_src'][row]}: data row {frame['_row'][row]}"


def _numbers(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """`columns` as Float64; a blank or non-numeric cell fails the payload, naming its file and row."""
    # Columns read as Float64 need no cast; text ones are cast as read first (stripping every
    # cell was most of this step and clean files need none).
    parsed = frame.select(pl.col(columns).cast(pl.Float64, strict=False))
    if not any(parsed[c].null_count() for c in columns):
        return parsed
    if all(frame[c].dtype == pl.String for c in columns):
        parsed = frame.select(pl.col(c).str.strip_chars().cast(pl.Float64, strict=False) for c in columns)
    for c in columns:
        bad = parsed[c].is_null()
        if bad.any():
            row = int(bad.arg_max() or 0)
            raise ParseError(f"{_where(frame, row)}: {c!r} is {frame[c][row]!r}, expected a number")
    return parsed


def _check_ptids(frame: pl.DataFrame) -> None:
    """Fail on a `PTID` that is not a whole number: a corrupted identifier is as bad as a corrupted price."""
    ok = frame["PTID"].str.strip_chars().str.contains(r"^\d+$")
    bad = ok.is_null() | ~ok
    if bad.any():
        row = int(bad.arg_max() or 0)
        value = frame["PTID"][row]
        shown = value if value is None or len(value) <= 20 else value[:20] + "..."
        raise ParseError(f"{_where(frame, row)}: 'PTID' is {shown!r}, expected a numeric point identifier")


def _naive_times(frame: pl.DataFrame) -> pl.Series:
    """`MM/DD/YYYY HH:MM[:SS]` wall-clock stamps; an unreadable one fails the payload."""
    raw = frame[TIME_STAMP]
    # A file uses one format throughout: parsing with it alone (and no strip) is ~4x cheaper
    # than trying every format on every stripped row; anything else takes the general path.
    for f in _FORMATS:
        parsed = raw.str.to_datetime(f, time_unit="us", strict=False)
        if not parsed.null_count():
            return parsed
    text = raw.str.strip_chars()
    parsed = pl.select(
        pl.coalesce([text.str.strptime(pl.Datetime("us"), f, strict=False) for f in _FORMATS])
    ).to_series()
    bad = parsed.is_null()
    if bad.any():
        row = int(bad.arg_max() or 0)
        raise ParseError(f"{_where(frame, row)}: time stamp {raw[row]!r} is not MM/DD/YYYY HH:MM[:SS]")
    return parsed


def _utc_times(frame: pl.DataFrame, by: list[str]) -> pl.Series:
    """UTC instants of the `Time Stamp` column, resolving the repeated fall-back hour.

    With a `Time Zone` column the EST label marks the second 01:xx; it must
    also agree with the wall-clock time (an EDT label in January fails the
    payload). Without one, the second appearance of a stamp per file and
    `by` is EST.
    """
    naive = _naive_times(frame)
    what = str(frame["_src"][0])
    if TIME_ZONE not in frame.columns:
        # Only 01:xx wall-clock stamps can repeat in New York, so only those rows are
        # ranked (ranking every row costs more than the rest of the parse).
        rows = (naive.dt.hour() == 1).arg_true()
        keys = frame.select("_src", *by).with_columns(t=naive)[rows]
        order = pl.repeat(False, frame.height, eager=True).scatter(
            rows, repeat_order(keys, "t", ["_src", *by])
        )
        return local_to_utc(naive, TZ, second_occurrence=order, what=f"{what}: time stamp")
    label = frame[TIME_ZONE].str.strip_chars()
    unknown = ~label.is_in(["EDT", "EST"])
    if unknown.any():
        row = int(unknown.arg_max() or 0)
        raise ParseError(f"{_where(frame, row)}: Time Zone {label[row]!r} is not EDT or EST")
    utc = local_to_utc(naive, TZ, second_occurrence=label == "EST", what=f"{what}: time stamp")
    offset = naive - utc.dt.replace_time_zone(None)
    expected = pl.select(
        pl.when(pl.lit(label) == "EST").then(pl.duration(hours=-5)).otherwise(pl.duration(hours=-4))
    ).to_series()
    wrong = offset != expected
    if wrong.any():
        row = int(wrong.arg_max() or 0)
        raise ParseError(
            f"{_where(frame, row)}: {frame[TIME_STAMP][row]} is not {label[row]} in New York time"
        )
    return utc


def _check_unique(frame: pl.DataFrame, at: pl.Series, locations: pl.Series) -> None:
    """Two rows for one location and instant fail the payload (a third copy of a fall-back stamp, say)."""
    keys = pl.DataFrame({"at": at, "loc": locations})
    # Distinct (location, instant) hashes prove distinct keys at a fraction of `is_duplicated`.
    hashes = keys.select(pl.col("loc").hash(1) ^ pl.col("at").hash(2)).to_series()
    if hashes.n_unique() == keys.height:
        return
    dup = keys.select(pl.struct("loc", "at").is_duplicated()).to_series()
    if dup.any():
        row = int(dup.arg_max() or 0)
        raise ParseError(
            f"{_where(frame, row)}: {locations[row]!r} has two rows for {at[row]:%Y-%m-%d %H:%M:%S} UTC"
        )


def _ending_intervals(ends: pl.Series, files: pl.Series, locations: pl.Series) -> pl.Series:
    """Starts of intervals given by their end stamps: a stamp ends the interval begun at the previous one.

    NYISO's RTD runs every 5 minutes on the grid and, now and then, again in
    between (20:13:42, 20:14:54 between 20:10 and 20:15); each run's price
    holds until the next run. So a stamp ends the interval that began at the
    previous stamp of the same location in the same file (20:10 to 20:13:42,
    20:13:42 to 20:14:54, 20:14:54 to 20:15): intervals vary in length and
    never overlap, and a time-weighted mean weighs each price by how long it
    held (this reproduces NYISO's integrated hourly real-time LBMP).

    An interval never starts before the last 5-minute grid point before its
    stamp. So the first stamp of a file starts at that grid point (00:05
    starts at 00:00, an off-grid 00:02:43 too), and consecutive daily files
    tile exactly; and a location missing from some stamps leaves a gap
    rather than one long interval that would hide it.
    """
    frame = pl.DataFrame({"end": ends, "src": files, "loc": locations})
    grid = (pl.col("end") - timedelta(microseconds=1)).dt.truncate(f"{int(FIVE_MINUTES.total_seconds())}s")
    previous = pl.col("end").shift(1).over(["src", "loc"], order_by="end")
    return frame.select(pl.max_horizontal(previous, grid).alias("start"))["start"]


def _located_bounds(frame: pl.DataFrame, stamp_ends: bool) -> tuple[pl.Series, pl.Series, pl.Series]:
    """(location, start, end) of each row: interval-ending real-time stamps, or hour-beginning ones."""
    names = frame[NAME].str.strip_chars()
    at = _utc_times(frame.with_columns(names.alias(NAME)), [NAME])
    _check_unique(frame, at, names)
    if stamp_ends:
        return names, _ending_intervals(at, frame["_src"], names), at
    return names, at, at + ONE_HOUR


# --------------------------------------------------------------------------- parsers


def _lmp_frame(data: bytes, market: str, stamp_ends: bool, location_type: pl.Expr) -> pl.DataFrame:
    frame = _read(data, LMP_HEADER, "NYISO LBMP", (LBMP, LOSSES, CONGESTION))
    _check_ptids(frame)
    values = _numbers(frame, [LBMP, LOSSES, CONGESTION])
    names, start, end = _located_bounds(frame, stamp_ends)
    lbmp, losses, mcc = values[LBMP], values[LOSSES], values[CONGESTION]
    return pl.DataFrame(
        {
            "iso": Iso.NYISO.value,
            "market": market,
            "location": names,
            "interval_start": start,
            "interval_end": end,
            "lmp": lbmp,
            # Rounded to drop float noise: the published parts have two decimals.
            "energy": (lbmp - losses + mcc).round(6),
            "congestion": 0.0 - mcc,  # not -mcc, which writes -0.0 for uncongested rows
            "loss": losses,
        }
    ).with_columns(location_type.alias("location_type"))


def _zone_or_proxy() -> pl.Expr:
    return (
        pl.when(pl.col("location").is_in(list(PROXIES)))
        .then(pl.lit(LocationType.INTERFACE.value))
        .otherwise(pl.lit(LocationType.ZONE.value))
    )


def _lmp_parser(market: str, stamp_ends: bool, zonal: bool) -> Callable[[bytes], pa.Table]:
    def parse(data: bytes) -> pa.Table:
        """NYISO LBMP file (zonal or generator, daily CSV or monthly zip) -> canonical `lmp` ($/MWh, UTC).

        NYISO publishes LBMP = Energy + Losses - Congestion: its "Marginal
        Cost Congestion" has the opposite sign to the other ISOs. So
        congestion = -(Marginal Cost Congestion), loss = Marginal Cost
        Losses, energy = LBMP - Losses + Marginal Cost Congestion (the same
        for every location in an interval), and lmp = energy + congestion +
        loss holds exactly. Day-ahead stamps start their hour. A real-time
        stamp ends the interval that began at the location's previous stamp
        in the file (5 minutes on the grid, shorter around NYISO's extra RTD
        runs such as 14:02:18), and the file's first stamp starts at the
        5-minute grid point before it, so intervals never overlap and a
        day's file covers exactly its day. On the fall-back day every 01:xx
        stamp after the clock went back is standard time.
        """
        kind = _zone_or_proxy() if zonal else pl.lit(LocationType.GEN.value)
        return canonical_table(Dataset.LMP, _lmp_frame(data, market, stamp_ends, kind))

    return parse


def _as_frame(data: bytes, market: str, stamp_ends: bool) -> pl.DataFrame:
    frame = _read(data, (TIME_STAMP, NAME, *AS_PRODUCTS), "NYISO AS prices", tuple(AS_PRODUCTS))
    products = list(AS_PRODUCTS)
    values = _numbers(frame, products)
    names, start, end = _located_bounds(frame, stamp_ends)
    wide = pl.DataFrame({"region": names, "interval_start": start, "interval_end": end}).hstack(values)
    return (
        wide.unpivot(
            index=["region", "interval_start", "interval_end"], variable_name="product", value_name="price"
        )
        .with_columns(
            pl.col("product").replace_strict(AS_PRODUCTS),
            iso=pl.lit(Iso.NYISO.value),
            market=pl.lit(market),
        )
        .sort("interval_start", "region", "product", maintain_order=True)
    )


def _as_parser(market: str, stamp_ends: bool) -> Callable[[bytes], pa.Table]:
    def parse(data: bytes) -> pa.Table:
        """NYISO `damasp`/`rtasp` reserve and regulation prices -> canonical `as_price` ($/MW-h, UTC).

        One row per region (`Name`) and product: SPIN_10, NONSYNC_10,
        OPER_30, REG_CAP. Day-ahead stamps start their hour; a real-time stamp
        ends the interval begun at the region's previous stamp (see the LBMP
        parser). The `Time Zone` column resolves the
        fall-back hour.
        """
        return canonical_table(Dataset.AS_PRICE, _as_frame(data, market, stamp_ends))

    return parse


def parse_pal_integrated(data: bytes) -> pa.Table:
    """NYISO `palIntegrated` hourly integrated actual load by zone -> canonical `load` (MW, UTC).

    `Time Stamp` starts the hour; `Time Zone` (EDT/EST) resolves the
    fall-back hour. Kind is `actual`; no forecast vintage.
    """
    frame = _read(data, (TIME_STAMP, NAME, INTEGRATED_LOAD), "NYISO palIntegrated", (INTEGRATED_LOAD,))
    mw = _numbers(frame, [INTEGRATED_LOAD])[INTEGRATED_LOAD]
    names, start, end = _located_bounds(frame, stamp_ends=False)
    out = pl.DataFrame(
        {
            "iso": Iso.NYISO.value,
            "zone": names,
            "kind": LoadKind.ACTUAL.value,
            "interval_start": start,
            "interval_end": end,
            "mw": mw,
        }
    )
    return canonical_table(Dataset.LOAD, out)


def parse_isolf(data: bytes) -> pa.Table:
    """NYISO `isolf` load forecast (wide by zone plus NYISO total) -> canonical `load` (MW, UTC).

    Each row is an hour-beginning stamp; the file for day D covers D to D+5.
    Zone names are upper-cased to match the price and actual-load files
    (`Hud Vl` -> `HUD VL`); the total is zone `NYISO`. `forecast_issued_at`
    is local midnight of the file's first day: NYISO gives no issue time, and
    the file date keys every copy of one forecast alike.
    """
    frame = _read(data, (TIME_STAMP, FORECAST_TOTAL), "NYISO isolf")
    zones = [c for c in frame.columns if c not in (TIME_STAMP, "_src", "_row")]
    values = _numbers(frame, zones)
    start = _utc_times(frame, [])
    _check_unique(frame, start, frame["_src"].cast(pl.String))
    days = pl.DataFrame({"day": _naive_times(frame).dt.date(), "src": frame["_src"]})
    first_day = days.select(pl.col("day").min().over("src")).to_series()
    issued = local_to_utc(first_day.cast(pl.Datetime("us")), TZ, what="isolf file date")
    wide = pl.DataFrame({"interval_start": start, "forecast_issued_at": issued}).hstack(values)
    out = (
        wide.unpivot(index=["interval_start", "forecast_issued_at"], variable_name="zone", value_name="mw")
        .with_columns(
            pl.col("zone").str.to_uppercase(),
            interval_end=pl.col("interval_start") + ONE_HOUR,
            iso=pl.lit(Iso.NYISO.value),
            kind=pl.lit(LoadKind.FORECAST.value),
        )
        .sort("forecast_issued_at", "interval_start", "zone", maintain_order=True)
    )
    return canonical_table(Dataset.LOAD, out)


def _pattern(stem: str) -> re.Pattern[str]:
    return re.compile(rf"^\d{{8}}{stem}(?:_csv\.zip|\.csv)$", re.IGNORECASE)


def _report(
    name: str,
    title: str,
    dataset: Dataset,
    market: str,
    parse: Callable[[bytes], pa.Table],
    header: tuple[str, ...],
    interval: timedelta,
    cadence: timedelta,
) -> Report:
    return Report(
        iso=Iso.NYISO,
        name=name,
        title=title,
        dataset=dataset,
        markets=(market,),
        parse=parse,
        file_pattern=_pattern(name),
        header=header,
        interval=interval,
        cadence=cadence,
    )


# The four LBMP layouts share one header; only the zonal real-time one claims it,
# so a renamed file with that header is read as the most common layout.
REALTIME_ZONE = _report(
    "realtime_zone", "RT 5-minute zonal LBMP", Dataset.LMP, "RT5",
    _lmp_parser("RT5", stamp_ends=True, zonal=True), LMP_HEADER, FIVE_MINUTES, FIVE_MINUTES,
)  # fmt: skip
REALTIME_GEN = _report(
    "realtime_gen", "RT 5-minute generator LBMP", Dataset.LMP, "RT5",
    _lmp_parser("RT5", stamp_ends=True, zonal=False), (), FIVE_MINUTES, FIVE_MINUTES,
)  # fmt: skip
DAMLBMP_ZONE = _report(
    "damlbmp_zone", "DA hourly zonal LBMP", Dataset.LMP, "DAM",
    _lmp_parser("DAM", stamp_ends=False, zonal=True), (), ONE_HOUR, timedelta(days=1),
)  # fmt: skip
DAMLBMP_GEN = _report(
    "damlbmp_gen", "DA hourly generator LBMP", Dataset.LMP, "DAM",
    _lmp_parser("DAM", stamp_ends=False, zonal=False), (), ONE_HOUR, timedelta(days=1),
)  # fmt: skip
DAMASP = _report(
    "damasp", "DA hourly ancillary service prices", Dataset.AS_PRICE, "DAM",
    _as_parser("DAM", stamp_ends=False), (), ONE_HOUR, timedelta(days=1),
)  # fmt: skip
RTASP = _report(
    "rtasp", "RT 5-minute ancillary service prices", Dataset.AS_PRICE, "RT5",
    _as_parser("RT5", stamp_ends=True), (TIME_STAMP, TIME_ZONE, *AS_PRODUCTS, "NYCA Regulation Movement"),
    FIVE_MINUTES, FIVE_MINUTES,
)  # fmt: skip
PAL_INTEGRATED = _report(
    "palIntegrated", "hourly integrated actual load", Dataset.LOAD, LoadKind.ACTUAL.value,
    parse_pal_integrated, (TIME_STAMP, TIME_ZONE, NAME, INTEGRATED_LOAD), ONE_HOUR, ONE_HOUR,
)  # fmt: skip
ISOLF = _report(
    "isolf", "ISO load forecast", Dataset.LOAD, LoadKind.FORECAST.value,
    parse_isolf, (TIME_STAMP, "Capitl", "Hud Vl", FORECAST_TOTAL), ONE_HOUR, timedelta(days=1),
)  # fmt: skip

REPORTS: tuple[Report, ...] = (
    REALTIME_ZONE, REALTIME_GEN, DAMLBMP_ZONE, DAMLBMP_GEN, DAMASP, RTASP, PAL_INTEGRATED, ISOLF,
)  # fmt: skip


# --------------------------------------------------------------------------- download


@dataclass(frozen=True, slots=True)
class _Source:
    folder: str
    report: Report

    @property
    def stem(self) -> str:
        return self.report.name

    def daily_url(self, day: date) -> str:
        return f"{BASE}/{self.folder}/{day:%Y%m%d}{self.stem}.csv"

    def monthly_url(self, day: date) -> str:
        return f"{BASE}/{self.folder}/{day:%Y%m}01{self.stem}_csv.zip"

    def member(self, day: date) -> str:
        return f"{day:%Y%m%d}{self.stem}.csv"


_SOURCES: dict[tuple[Dataset, str], tuple[_Source, ...]] = {
    (Dataset.LMP, "RT5"): (_Source("realtime", REALTIME_ZONE), _Source("realtime", REALTIME_GEN)),
    (Dataset.LMP, "DAM"): (_Source("damlbmp", DAMLBMP_ZONE), _Source("damlbmp", DAMLBMP_GEN)),
    (Dataset.AS_PRICE, "DAM"): (_Source("damasp", DAMASP),),
    (Dataset.AS_PRICE, "RT5"): (_Source("rtasp", RTASP),),
    (Dataset.LOAD, LoadKind.ACTUAL.value): (_Source("palIntegrated", PAL_INTEGRATED),),
    (Dataset.LOAD, LoadKind.FORECAST.value): (_Source("isolf", ISOLF),),
}


# One target per (dataset, market); RT5/DAM LBMP fetch both the zonal and generator files.
TARGETS: tuple[DownloadTarget, ...] = tuple(
    DownloadTarget(ds, market, src[0].report) for (ds, market), src in _SOURCES.items()
)


class NyisoConnector:
    """Downloads NYISO daily files, falling back between the daily CSV and the monthly archive.

    A fully past month's archive is kept in memory (one at a time) so a
    backfill over a month downloads it once; the current month's archive
    grows daily and is always fetched afresh.
    """

    iso = Iso.NYISO

    def __init__(
        self,
        settings: NyisoSettings | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings or NyisoSettings()
        self._clock = clock
        self._lock = threading.Lock()
        self._archive: tuple[str, bytes] | None = None

    @property
    def targets(self) -> tuple[DownloadTarget, ...]:
        """Every (dataset, market) this connector downloads."""
        return TARGETS

    def fetch(self, client: IsoClient, dataset: Dataset, market: str, day: date) -> Iterator[Payload]:
        """Payloads holding NYISO market day `day` (New York time) for (dataset, market)."""
        sources = _SOURCES.get((Dataset(dataset), market))
        if sources is None:
            raise ValueError(f"NYISO has no download for {dataset}/{market}")
        today = self._clock().astimezone(ZoneInfo(TZ)).date()
        recent = day >= today - timedelta(days=self.settings.daily_days)
        for source in sources:
            yield from self._fetch_one(client, source, day, recent, today)

    def _fetch_one(
        self, client: IsoClient, source: _Source, day: date, recent: bool, today: date
    ) -> Iterator[Payload]:
        attempts = ("daily", "monthly") if recent else ("monthly", "daily")
        for kind in attempts:
            if kind == "daily":
                url = source.daily_url(day)
                resp = client.get_published(url)
                if resp is not None:
                    yield Payload(source.member(day), resp.content, source.report, url, resp.last_modified())
                    return
                continue
            url = source.monthly_url(day)
            past_month = (day.year, day.month) < (today.year, today.month)
            archive = self._monthly(client, url, past_month)
            if archive is None:
                continue
            yield from self._member(archive, source, day, url)
            return

    def _monthly(self, client: IsoClient, url: str, cacheable: bool) -> bytes | None:
        key = client.url(url)
        with self._lock:
            if self._archive is not None and self._archive[0] == key:
                return self._archive[1]
        resp = client.get_published(url)
        if resp is None:
            return None
        if cacheable and is_zip(resp.content):
            with self._lock:
                self._archive = (key, resp.content)
        return resp.content

    def _member(self, archive: bytes, source: _Source, day: date, url: str) -> Iterator[Payload]:
        name = source.member(day)
        try:
            members = zip_members(archive)
        except ParseError:
            # A broken archive goes to the parser as served, to be quarantined.
            with self._lock:
                self._archive = None
            yield Payload(url.rsplit("/", 1)[-1], archive, source.report, url)
            return
        # A day missing from the archive has not been published (yet): nothing to yield.
        for member, body in members:
            if member.rsplit("/", 1)[-1] == name:
                yield Payload(name, body, source.report, url)


def connector(settings: Settings) -> NyisoConnector:
    """The NYISO connector with the settings of `settings.nyiso` (`CARBON254_NYISO_*`)."""
    return NyisoConnector(settings.nyiso)
