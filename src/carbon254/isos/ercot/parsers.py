"""Pure parsers for the ERCOT reports: payload bytes (MIS zip/CSV or API JSON page) -> canonical Arrow table.

ERCOT publishes no energy/congestion/loss split for any of these prices, so
`energy`, `congestion` and `loss` are null on every lmp row (settlement point
prices also include the real-time reserve and reliability adders). Times are
Central prevailing (see `frames.hour_ending` and `frames.sced_interval`).

The price and adder parsers first try `fastpath` (one typed pyarrow read, each
distinct time converted once), which returns None for anything outside the
plain MIS shape; the general Polars path below then reads the payload and
owns every error message. Both give the same rows.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from carbon254.isos import Iso
from carbon254.isos.ercot import fastpath as fast
from carbon254.isos.ercot.frames import (
    TZ,
    flag,
    hour_ending,
    number,
    posted_at,
    read_frame,
    read_sheets,
    require,
    sced_interval,
    text,
    wall_clock,
)
from carbon254.markets.canonical import canonical_table
from carbon254.markets.localtime import local_to_utc
from carbon254.markets.report import ParseError
from carbon254.schema import Dataset, LoadKind, LocationType, spec

ISO = Iso.ERCOT.value
SYSTEM_ZONE = "ERCOT"

# Normalised weather-zone column names (actual NP6-345-CD and forecast NP3-565-CD spell them
# differently) -> the zone names stored, which follow the actual-load report.
WEATHER_ZONES: dict[str, str] = {
    "coast": "COAST",
    "east": "EAST",
    "farwest": "FAR_WEST",
    "north": "NORTH",
    "northc": "NORTH_C",
    "northcentral": "NORTH_C",
    "southc": "SOUTH_C",
    "southcentral": "SOUTH_C",
    "southern": "SOUTHERN",
    "west": "WEST",
    "total": SYSTEM_ZONE,
    "systemtotal": SYSTEM_ZONE,
}
_WEATHER_ZONE_COUNT = len(set(WEATHER_ZONES.values()))


def _type_by_name(names: pl.Series) -> pl.Series:
    """Location type from an ERCOT settlement point name: `HB_*` hubs, `LZ_*` load zones, else nodes."""
    return pl.select(
        pl.when(names.str.starts_with("HB_"))
        .then(pl.lit(LocationType.HUB.value))
        .when(names.str.starts_with("LZ_"))
        .then(pl.lit(LocationType.ZONE.value))
        .otherwise(pl.lit(LocationType.NODE.value))
    ).to_series()


def _type_by_code(codes: pl.Series) -> pl.Series:
    """Location type from NP6-905-CD `SettlementPointType`: HU/SH/AH hubs, LZ* load zones, else nodes."""
    upper = codes.str.to_uppercase()
    return pl.select(
        pl.when(upper.is_in(["HU", "SH", "AH"]))
        .then(pl.lit(LocationType.HUB.value))
        .when(upper.str.starts_with("LZ"))
        .then(pl.lit(LocationType.ZONE.value))
        .otherwise(pl.lit(LocationType.NODE.value))
    ).to_series()


def _lmp_table(
    market: str,
    location: pl.Series,
    location_type: pl.Series | str,
    start: pl.Series,
    end: pl.Series,
    lmp: pl.Series,
) -> pa.Table:
    kind = location_type if isinstance(location_type, pl.Series) else pl.lit(location_type)
    frame = pl.DataFrame(
        {"location": location, "interval_start": start, "interval_end": end, "lmp": lmp}
    ).with_columns(iso=pl.lit(ISO), market=pl.lit(market), location_type=kind)
    return canonical_table(Dataset.LMP, frame)


def _arrow_table(dataset: Dataset, columns: dict[str, pa.Array | str]) -> pa.Table:
    """`canonical_table` for columns already typed by the fast path: a str is a constant column."""
    schema = _schema(dataset)
    rows = next(len(c) for c in columns.values() if not isinstance(c, str))
    arrays = []
    for field in schema:
        column = columns.get(field.name)
        if column is None or isinstance(column, str):
            make = _constant if rows <= fast.MEMO_ROWS else _constant.__wrapped__
            arrays.append(make(field.type, column, rows))
        else:
            arrays.append(column)
    return _table(arrays, schema)


def _table(arrays: list[pa.Array], schema: pa.Schema) -> pa.Table:
    # Through a record batch: `Table.from_arrays` checks each column again and cost 3x as much.
    return pa.Table.from_batches([pa.RecordBatch.from_arrays(arrays, schema=schema)], schema=schema)


@lru_cache(maxsize=16)
def _schema(dataset: Dataset) -> pa.Schema:
    return spec(dataset).schema


@lru_cache(maxsize=64)
def _constant(kind: pa.DataType, value: str | None, rows: int) -> pa.Array:
    """`rows` copies of `value` (None: nulls), built once per process: a day of SCED files has the
    same row count, and building the iso, market and null columns per file was ~10% of its parse.
    Arrow arrays are immutable, so tables can share them."""
    return pa.nulls(rows, kind) if value is None else pa.repeat(pa.scalar(value, kind), rows)


_LMP_SCHEMA = spec(Dataset.LMP).schema
# The columns `_fast_lmp` fills, in schema order; the rest (components, metadata) are null.
_LMP_FILLED = ("iso", "market", "location", "location_type", "interval_start", "interval_end", "lmp")


@lru_cache(maxsize=64)
def _lmp_constants(market: str, location_type: str | None, rows: int) -> tuple[pa.Array, ...]:
    """(iso, market, location_type or None, then the null columns) of `rows` fast-path lmp rows,
    built once per process like `_constant`."""
    nulls = [pa.nulls(rows, f.type) for f in _LMP_SCHEMA if f.name not in _LMP_FILLED]
    kind = pa.nulls(rows, _STR) if location_type is None else pa.repeat(pa.scalar(location_type, _STR), rows)
    return (pa.repeat(pa.scalar(ISO, _STR), rows), pa.repeat(pa.scalar(market, _STR), rows), kind, *nulls)


def _fast_lmp(
    market: str,
    location: pa.Array,
    location_type: pa.Array | str,
    start: np.ndarray,
    length_us: int,
    lmp: pa.Array,
) -> pa.Table:
    rows = len(location)
    fixed = location_type if isinstance(location_type, str) else None
    make = _lmp_constants if rows <= fast.MEMO_ROWS else _lmp_constants.__wrapped__
    iso, market_column, kind, *nulls = make(market, fixed, rows)
    arrays = [
        iso,
        market_column,
        location,
        kind if isinstance(location_type, str) else location_type,
        fast.timestamps(start),
        fast.timestamps(start + length_us),
        lmp,
        *nulls,
    ]
    return _table(arrays, _LMP_SCHEMA)


_KINDS = pa.array([LocationType.NODE.value, LocationType.HUB.value, LocationType.ZONE.value])


def _type_names(names: pa.Array) -> pa.Array:
    """`_type_by_name` on the fast path's Arrow strings: 0/1/2 codes from two `starts_with` masks, then
    one take (an `if_else` over strings cost as much as the whole CSV read)."""
    hub = pc.starts_with(names, "HB_").to_numpy(zero_copy_only=False)
    zone = pc.starts_with(names, "LZ_").to_numpy(zero_copy_only=False)
    return _KINDS.take(pa.array(hub.view(np.int8) + 2 * zone.view(np.int8)))


def _type_codes(codes: pa.Array) -> pa.Array:
    """`_type_by_code` on the fast path's Arrow strings: each distinct code (a handful) typed once."""
    encoded = pc.dictionary_encode(codes)
    kinds = []
    for code in encoded.dictionary.to_pylist():
        upper = code.upper()  # ASCII (`read_typed`), so the same as Polars' `to_uppercase`
        kinds.append(2 if upper.startswith("LZ") else 1 if upper in ("HU", "SH", "AH") else 0)
    return _KINDS.take(pa.array(kinds, pa.int8()).take(encoded.indices))


# Every SCED, RT and DAM file repeats the same settlement points in the same order: typed once per column.
_fast_type_by_name = fast.ByColumn(_type_names)
_fast_type_by_code = fast.ByColumn(_type_codes)


_STR = pa.string()
_F64 = pa.float64()


def _hourly_shape(location: str, price: str) -> fast.Shape:
    return fast.Shape(
        {"date": _STR, "hour": _STR, location: _STR, price: _F64, "repeat": _STR}, lead=("date",)
    )


def _sced_shape(location: str) -> fast.Shape:
    return fast.Shape(
        {"sced_time": _STR, "repeat": _STR, location: _STR, "lmp": _F64}, lead=("sced_time", "repeat")
    )


_DAM_SPP = _hourly_shape("point", "price")
_DAM_LMP = _hourly_shape("bus", "lmp")
_AS_MCPC = _hourly_shape("product", "mcpc")
_SCED_POINTS = _sced_shape("point")
_SCED_BUSES = _sced_shape("bus")
_RT_SPP = fast.Shape(
    {
        "date": _STR,
        "hour": _STR,
        "interval": _STR,
        "point": _STR,
        "point_type": _STR,
        "price": _F64,
        "repeat": _STR,
    },
    lead=("date", "hour", "interval"),
)
_ORDC = fast.Shape(
    {"sced_time": _STR, "repeat": _STR},
    {"rtorpa": _F64, "rtordpa": _F64, "rtrdpa": _F64},
    lead=("sced_time", "repeat"),
)


def _fast_hourly(
    data: bytes, shape: fast.Shape, location: str, price: str
) -> tuple[pa.Array, np.ndarray, pa.Array] | None:
    """(locations, UTC hour starts, prices) of an hour-ending DAM file on the fast path, or None."""
    got = fast.read_typed(data, shape)
    if got is None or not fast.plain_text(got.columns[location]):
        return None
    start = fast.hour_starts(got.key("date"), got.key("hour"), got.key("repeat"), got.rows)
    return None if start is None else (got.columns[location], start, got.columns[price])


def _fast_sced(data: bytes, shape: fast.Shape, location: str) -> tuple[pa.Array, np.ndarray, pa.Array] | None:
    """(locations, UTC SCED run starts, LMPs) of a SCED file on the fast path, or None."""
    got = fast.read_typed(data, shape)
    if got is None or not fast.plain_text(got.columns[location]):
        return None
    start = fast.sced_starts(got.key("sced_time"), got.key("repeat"), got.rows)
    return None if start is None else (got.columns[location], start, got.columns["lmp"])


_SCED_US = 5 * fast.MINUTE_US


def parse_dam_spp(data: bytes) -> pa.Table:
    """NP4-190-CD DAM settlement point prices ($/MWh) -> lmp market `DAM`, one row per point and hour.

    Layout `DeliveryDate,HourEnding,SettlementPoint,SettlementPointPrice,DSTFlag`;
    hour-ending labels in Central prevailing time (UTC start/end per
    `frames.hour_ending`). Hubs are `HB_*`, load zones `LZ_*`, the rest
    resource nodes. No components are published (energy/congestion/loss null).
    """
    what = "NP4-190-CD"
    quick = _fast_hourly(data, _DAM_SPP, "point", "price")
    if quick is not None:
        points, start_us, prices = quick
        return _fast_lmp("DAM", points, _fast_type_by_name(points), start_us, fast.HOUR_US, prices)
    f = read_frame(data, what, ["date", "hour", "point", "price", "repeat"])
    start, end = hour_ending(f, what)
    points = text(f, "point", what)
    return _lmp_table("DAM", points, _type_by_name(points), start, end, number(f, "price", what))


def parse_rt_spp(data: bytes) -> pa.Table:
    """NP6-905-CD real-time settlement point prices ($/MWh, 15-minute) -> lmp market `RT15`.

    Layout `DeliveryDate,DeliveryHour,DeliveryInterval,SettlementPointName,
    SettlementPointType,SettlementPointPrice,DSTFlag`: interval n (1..4) of
    hour-ending h starts (n-1)*15 minutes after that hour's start, so the
    repeated fall-back hour (DSTFlag Y) and the short spring day follow the
    hour. `SettlementPointType` HU/SH/AH -> hub, LZ* -> zone, others (RN,
    PCCRN, ...) -> node. Prices include the RT adders; no components.
    """
    what = "NP6-905-CD"
    quick = _fast_rt_spp(data)
    if quick is not None:
        return quick
    f = read_frame(data, what, ["date", "hour", "interval", "point", "point_type", "price", "repeat"])
    interval = f["interval"].cast(pl.Int64, strict=False)
    bad = interval.is_null() | (interval < 1) | (interval > 4)
    if bad.any():
        row = int(bad.arg_max() or 0)
        raise ParseError(f"{what}: data row {row + 1}, DeliveryInterval {f['interval'][row]!r} is not 1..4")
    hour_start, _ = hour_ending(f, what)
    start = pl.select(hour_start + pl.duration(minutes=pl.lit(interval - 1) * 15)).to_series()
    end = start + timedelta(minutes=15)
    points = text(f, "point", what)
    types = _type_by_code(text(f, "point_type", what))
    return _lmp_table("RT15", points, types, start, end, number(f, "price", what))


def _fast_rt_spp(data: bytes) -> pa.Table | None:
    """NP6-905-CD on the fast path: interval n of HE h starts (n-1)*15 minutes after the hour, or None."""
    got = fast.read_typed(data, _RT_SPP)
    if got is None or not (
        fast.plain_text(got.columns["point"]) and fast.plain_text(got.columns["point_type"])
    ):
        return None
    found = fast.distinct([got.key("interval")], got.rows)
    hour_start = fast.hour_starts(got.key("date"), got.key("hour"), got.key("repeat"), got.rows)
    if found is None or hour_start is None:
        return None
    (intervals,), index = found
    offsets = {"1": 0, "2": 15, "3": 30, "4": 45}  # other spellings ("01", "1.0") take the general path
    if any(i not in offsets for i in intervals):
        return None
    minutes = np.asarray([offsets[i] for i in intervals], dtype=np.int64)[index]
    start = hour_start + minutes * fast.MINUTE_US
    points = got.columns["point"]
    return _fast_lmp(
        "RT15",
        points,
        _fast_type_by_code(got.columns["point_type"]),
        start,
        15 * fast.MINUTE_US,
        got.columns["price"],
    )


def parse_sced_lmp(data: bytes) -> pa.Table:
    """NP6-788-CD SCED LMPs ($/MWh) by resource node, load zone and hub -> lmp market `SCED`.

    Layout `SCEDTimestamp,RepeatedHourFlag,SettlementPoint,LMP` (LMP
    right-aligned with leading spaces). interval_start is the SCED run's
    timestamp (Central, `RepeatedHourFlag` Y = the CST pass of the fall-back
    hour) in UTC, interval_end start + 5 minutes (`frames.sced_interval`).
    """
    what = "NP6-788-CD"
    quick = _fast_sced(data, _SCED_POINTS, "point")
    if quick is not None:
        points, start_us, lmp = quick
        return _fast_lmp("SCED", points, _fast_type_by_name(points), start_us, _SCED_US, lmp)
    f = read_frame(data, what, ["sced_time", "repeat", "point", "lmp"])
    start, end = sced_interval(f, what)
    points = text(f, "point", what)
    return _lmp_table("SCED", points, _type_by_name(points), start, end, number(f, "lmp", what))


def parse_sced_bus_lmp(data: bytes) -> pa.Table:
    """NP6-787-CD SCED LMPs ($/MWh) by electrical bus -> lmp market `SCED_BUS`, location_type node.

    Same shape as NP6-788-CD with `ElectricalBus` for the location; same
    SCED-run interval convention.
    """
    what = "NP6-787-CD"
    quick = _fast_sced(data, _SCED_BUSES, "bus")
    if quick is not None:
        buses, start_us, lmp = quick
        return _fast_lmp("SCED_BUS", buses, LocationType.NODE.value, start_us, _SCED_US, lmp)
    f = read_frame(data, what, ["sced_time", "repeat", "bus", "lmp"])
    start, end = sced_interval(f, what)
    return _lmp_table(
        "SCED_BUS", text(f, "bus", what), LocationType.NODE.value, start, end, number(f, "lmp", what)
    )


def parse_dam_lmp(data: bytes) -> pa.Table:
    """NP4-183-CD DAM hourly LMPs ($/MWh) by electrical bus -> lmp market `DAM_LMP`, location_type node.

    Layout `DeliveryDate,HourEnding,BusName,LMP,DSTFlag`, hour-ending Central
    prevailing like NP4-190-CD.
    """
    what = "NP4-183-CD"
    quick = _fast_hourly(data, _DAM_LMP, "bus", "lmp")
    if quick is not None:
        buses, start_us, lmp = quick
        return _fast_lmp("DAM_LMP", buses, LocationType.NODE.value, start_us, fast.HOUR_US, lmp)
    f = read_frame(data, what, ["date", "hour", "bus", "lmp", "repeat"])
    start, end = hour_ending(f, what)
    return _lmp_table(
        "DAM_LMP", text(f, "bus", what), LocationType.NODE.value, start, end, number(f, "lmp", what)
    )


def parse_as_mcpc(data: bytes) -> pa.Table:
    """NP4-188-CD DAM clearing prices for capacity ($/MW-h) -> as_price market `DAM`, region `ERCOT`.

    Layout `DeliveryDate,HourEnding,AncillaryType,MCPC,DSTFlag`; `product` is
    the `AncillaryType` as published (REGUP, REGDN, RRS, NSPIN, ECRS).
    """
    what = "NP4-188-CD"
    quick = _fast_hourly(data, _AS_MCPC, "product", "mcpc")
    if quick is not None:
        products, start_us, prices = quick
        return _arrow_table(
            Dataset.AS_PRICE,
            {
                "iso": ISO,
                "market": "DAM",
                "region": SYSTEM_ZONE,
                "product": pc.ascii_upper(products),
                "interval_start": fast.timestamps(start_us),
                "interval_end": fast.timestamps(start_us + fast.HOUR_US),
                "price": prices,
            },
        )
    f = read_frame(data, what, ["date", "hour", "product", "mcpc", "repeat"])
    start, end = hour_ending(f, what)
    products = text(f, "product", what).str.to_uppercase()
    frame = pl.DataFrame(
        {"product": products, "interval_start": start, "interval_end": end, "price": number(f, "mcpc", what)}
    ).with_columns(iso=pl.lit(ISO), market=pl.lit("DAM"), region=pl.lit(SYSTEM_ZONE))
    return canonical_table(Dataset.AS_PRICE, frame)


def parse_ordc_adders(data: bytes) -> pa.Table:
    """NP6-323-CD real-time price adders per SCED run ($/MWh) -> ordc_adder.

    Before RTC+B (2025-12-05) the layout carries `RTORPA` (on-line reserve
    price adder) and `RTORDPA` (reliability deployment price adder) among
    ~35 columns. From RTC+B the ORDC reserve adder no longer exists (reserve
    scarcity is priced through the AS demand curves) and the reliability
    deployment adder is `RTRDPA`; such files give rt_reserve_adder 0.0.
    Intervals follow the SCED-run convention of `frames.sced_interval`.
    """
    what = "NP6-323-CD"
    quick = _fast_ordc(data)
    if quick is not None:
        return quick
    f = read_frame(data, what, ["sced_time", "repeat"])
    deployment = next((c for c in ("rtordpa", "rtrdpa") if c in f.columns), None)
    if deployment is None:
        require(f, ["rtordpa"], what)
    start, end = sced_interval(f, what)
    reserve = number(f, "rtorpa", what) if "rtorpa" in f.columns else pl.repeat(0.0, f.height, eager=True)
    frame = pl.DataFrame(
        {
            "interval_start": start,
            "interval_end": end,
            "rt_reserve_adder": reserve,
            "rt_reliability_deployment_adder": number(f, str(deployment), what),
        }
    ).with_columns(iso=pl.lit(ISO))
    return canonical_table(Dataset.ORDC_ADDER, frame)


def _fast_ordc(data: bytes) -> pa.Table | None:
    """NP6-323-CD on the fast path (both layouts), or None."""
    got = fast.read_typed(data, _ORDC)
    if got is None:
        return None
    deployment = got.columns.get("rtordpa", got.columns.get("rtrdpa"))
    start = fast.sced_starts(got.key("sced_time"), got.key("repeat"), got.rows)
    if deployment is None or start is None:
        return None
    reserve = got.columns.get("rtorpa")
    return _arrow_table(
        Dataset.ORDC_ADDER,
        {
            "iso": ISO,
            "interval_start": fast.timestamps(start),
            "interval_end": fast.timestamps(start + _SCED_US),
            "rt_reserve_adder": pa.repeat(pa.scalar(0.0), got.rows) if reserve is None else reserve,
            "rt_reliability_deployment_adder": deployment,
        },
    )


def _zone_columns(frame: pl.DataFrame, what: str) -> list[str]:
    zones = [c for c in frame.columns if c in WEATHER_ZONES]
    if len({WEATHER_ZONES[c] for c in zones}) != _WEATHER_ZONE_COUNT or len(zones) != _WEATHER_ZONE_COUNT:
        raise ParseError(
            f"{what}: expected the eight weather-zone columns and the system total, found {', '.join(zones)}"
        )
    return zones


def _melt_load(f: pl.DataFrame, what: str, kind: LoadKind, issued: pl.Series | None) -> pl.DataFrame:
    """One row per (hour, zone) of a wide hourly load frame, MW, UTC hour boundaries."""
    zones = _zone_columns(f, what)
    for zone in zones:
        number(f, zone, what)  # names the first bad cell before the melt loses its line
    start, end = hour_ending(f, what)
    wide = f.select(zones).with_columns(
        interval_start=start,
        interval_end=end,
        forecast_issued_at=issued if issued is not None else pl.lit(None, dtype=pl.Datetime("us", "UTC")),
    )
    long = wide.unpivot(
        on=zones, index=["interval_start", "interval_end", "forecast_issued_at"], variable_name="col"
    )
    return long.select(
        iso=pl.lit(ISO),
        zone=pl.col("col").replace_strict(WEATHER_ZONES),
        kind=pl.lit(kind.value),
        interval_start="interval_start",
        interval_end="interval_end",
        mw=pl.col("value").cast(pl.Float64),
        forecast_issued_at="forecast_issued_at",
    )


def parse_load_actual(data: bytes) -> pa.Table:
    """NP6-345-CD actual system load by weather zone (MW, hourly) -> load kind `actual`.

    Layout `OperDay,HourEnding,COAST,EAST,FAR_WEST,NORTH,NORTH_C,SOUTHERN,
    SOUTH_C,WEST,TOTAL,DSTFlag`; each zone column becomes rows of that zone,
    `TOTAL` is stored as zone `ERCOT`.
    """
    what = "NP6-345-CD"
    f = read_frame(data, what, ["date", "hour", "repeat"])
    return canonical_table(Dataset.LOAD, _melt_load(f, what, LoadKind.ACTUAL, None))


def parse_load_forecast(data: bytes) -> pa.Table:
    """NP3-565-CD seven-day load forecast by model and weather zone (MW, hourly) -> load kind `forecast`.

    Layout `DeliveryDate,HourEnding,Coast,East,FarWest,North,NorthCentral,
    SouthCentral,Southern,West,SystemTotal,Model,InUseFlag,DSTFlag`. Only the
    model ERCOT had in use (`InUseFlag = Y`) is kept, so each hour has one
    forecast per zone. forecast_issued_at is the API's `postedDatetime`
    (Central) when present, else the posting time in the MIS file name
    (`cdr.<id>.<zeros>.<YYYYMMDD>.<HHMMSS>.`), else null when neither is
    known (a bare CSV renamed by hand).
    """
    what = "NP3-565-CD"
    parts = []
    for sheet in read_sheets(data, what):
        f = sheet.frame
        require(f, ["date", "hour", "repeat", "in_use"], what)
        f = f.filter(flag(f, "in_use", what))
        issued: pl.Series | None
        if "posted" in f.columns:
            issued = local_to_utc(wall_clock(f, "posted", what), TZ, what=f"{what} postedDatetime")
        else:
            stamp = posted_at(sheet.name)
            issued = None if stamp is None else pl.Series([stamp[0]] * f.height, dtype=stamp.dtype)
        parts.append(_melt_load(f, what, LoadKind.FORECAST, issued))
    return canonical_table(Dataset.LOAD, pl.concat(parts))


__all__ = [
    "parse_as_mcpc",
    "parse_dam_lmp",
    "parse_dam_spp",
    "parse_load_actual",
    "parse_load_forecast",
    "parse_ordc_adders",
    "parse_rt_spp",
    "parse_sced_bus_lmp",
    "parse_sced_lmp",
]
