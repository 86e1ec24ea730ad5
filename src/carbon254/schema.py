"""Canonical datasets: Arrow schemas, row identity and validation on write.

Every connector, the simulator and `ingest` produce these tables; every reader
consumes them. All timestamps are `timestamp[us, UTC]`; prices are $/MWh
(energy, ORDC adders), $/MW-h (ancillary services) or $/MW-day (capacity);
load is MW.

`validate` is the single gate in front of the store. It checks a whole batch
and raises `ValidationError` listing every broken rule with the offending row
numbers, so a bad batch is rejected whole and nothing from it is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from carbon254.isos import (
    CAPACITY_PRICE_BOUNDS,
    ISOS,
    LOAD_MW_BOUNDS,
    ORDC_ADDER_BOUNDS,
    Iso,
    IsoInfo,
    PriceBounds,
)

TIMESTAMP = pa.timestamp("us", tz="UTC")
_ISO_NAMES = frozenset(i.value for i in Iso)
COMPONENT_TOLERANCE = 0.01  # $/MWh: lmp must equal energy + congestion + loss within this
_SHOWN_CHARS = 20  # characters of a bad value quoted in an error


class Dataset(StrEnum):
    """Canonical dataset names."""

    LMP = "lmp"
    AS_PRICE = "as_price"
    CAPACITY_PRICE = "capacity_price"
    ORDC_ADDER = "ordc_adder"
    LOAD = "load"


class LocationType(StrEnum):
    """Kinds of priced location."""

    HUB = "hub"
    ZONE = "zone"
    NODE = "node"
    GEN = "gen"
    LOAD = "load"
    INTERFACE = "interface"


class LoadKind(StrEnum):
    """What a load row is: the metered actual, or a forecast of it.

    `forecast` is an hourly forecast made a day or more ahead (day-ahead,
    2-day, 7-day); `forecast_rt15` and `forecast_rt5` are the real-time
    market's own 15-minute and 5-minute forecasts (CAISO RTPD and RTD).
    """

    ACTUAL = "actual"
    FORECAST = "forecast"
    FORECAST_RT15 = "forecast_rt15"
    FORECAST_RT5 = "forecast_rt5"


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    """Everything the store and validators need to know about one dataset.

    `key` identifies a row: a second row with the same key and different
    `values` is a revision. `market_column` and `location_column` are the
    dataset's second partition level and its per-location filter (e.g. `auction`
    and `zone` for capacity prices); either may be absent.
    """

    name: Dataset
    schema: pa.Schema
    required: tuple[str, ...]
    key: tuple[str, ...]
    values: tuple[str, ...]
    time_column: str
    end_column: str
    market_column: str | None
    location_column: str | None
    bounded_columns: tuple[str, ...]
    bounds: Callable[[IsoInfo], PriceBounds]
    unit: str

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.schema.names)


_META = [pa.field("published_at", TIMESTAMP), pa.field("ingested_at", TIMESTAMP)]

LMP_SCHEMA = pa.schema(
    [
        pa.field("iso", pa.string(), nullable=False),
        pa.field("market", pa.string(), nullable=False),
        pa.field("location", pa.string(), nullable=False),
        pa.field("location_type", pa.string()),
        pa.field("interval_start", TIMESTAMP, nullable=False),
        pa.field("interval_end", TIMESTAMP, nullable=False),
        pa.field("lmp", pa.float64(), nullable=False),
        pa.field("energy", pa.float64()),
        pa.field("congestion", pa.float64()),
        pa.field("loss", pa.float64()),
        *_META,
    ]
)

AS_PRICE_SCHEMA = pa.schema(
    [
        pa.field("iso", pa.string(), nullable=False),
        pa.field("market", pa.string(), nullable=False),
        pa.field("region", pa.string(), nullable=False),
        pa.field("product", pa.string(), nullable=False),
        pa.field("interval_start", TIMESTAMP, nullable=False),
        pa.field("interval_end", TIMESTAMP, nullable=False),
        pa.field("price", pa.float64(), nullable=False),
        *_META,
    ]
)

CAPACITY_PRICE_SCHEMA = pa.schema(
    [
        pa.field("iso", pa.string(), nullable=False),
        pa.field("auction", pa.string(), nullable=False),
        pa.field("zone", pa.string(), nullable=False),
        pa.field("delivery_start", TIMESTAMP, nullable=False),
        pa.field("delivery_end", TIMESTAMP, nullable=False),
        pa.field("price", pa.float64(), nullable=False),
        *_META,
    ]
)

ORDC_ADDER_SCHEMA = pa.schema(
    [
        pa.field("iso", pa.string(), nullable=False),
        pa.field("interval_start", TIMESTAMP, nullable=False),
        pa.field("interval_end", TIMESTAMP, nullable=False),
        pa.field("rt_reserve_adder", pa.float64(), nullable=False),
        pa.field("rt_reliability_deployment_adder", pa.float64(), nullable=False),
        *_META,
    ]
)

LOAD_SCHEMA = pa.schema(
    [
        pa.field("iso", pa.string(), nullable=False),
        pa.field("zone", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("interval_start", TIMESTAMP, nullable=False),
        pa.field("interval_end", TIMESTAMP, nullable=False),
        pa.field("mw", pa.float64(), nullable=False),
        pa.field("forecast_issued_at", TIMESTAMP),
        *_META,
    ]
)

SPECS: dict[Dataset, DatasetSpec] = {
    Dataset.LMP: DatasetSpec(
        name=Dataset.LMP,
        schema=LMP_SCHEMA,
        required=("iso", "market", "location", "interval_start", "interval_end", "lmp"),
        key=("iso", "market", "location", "interval_start"),
        values=("interval_end", "location_type", "lmp", "energy", "congestion", "loss"),
        time_column="interval_start",
        end_column="interval_end",
        market_column="market",
        location_column="location",
        bounded_columns=("lmp", "energy", "congestion", "loss"),
        bounds=lambda info: info.lmp_bounds,
        unit="$/MWh",
    ),
    Dataset.AS_PRICE: DatasetSpec(
        name=Dataset.AS_PRICE,
        schema=AS_PRICE_SCHEMA,
        required=("iso", "market", "region", "product", "interval_start", "interval_end", "price"),
        key=("iso", "market", "region", "product", "interval_start"),
        values=("interval_end", "price"),
        time_column="interval_start",
        end_column="interval_end",
        market_column="market",
        location_column="region",
        bounded_columns=("price",),
        bounds=lambda info: info.as_price_bounds,
        unit="$/MW-h",
    ),
    Dataset.CAPACITY_PRICE: DatasetSpec(
        name=Dataset.CAPACITY_PRICE,
        schema=CAPACITY_PRICE_SCHEMA,
        required=("iso", "auction", "zone", "delivery_start", "delivery_end", "price"),
        key=("iso", "auction", "zone", "delivery_start"),
        values=("delivery_end", "price"),
        time_column="delivery_start",
        end_column="delivery_end",
        market_column="auction",
        location_column="zone",
        bounded_columns=("price",),
        bounds=lambda info: CAPACITY_PRICE_BOUNDS,
        unit="$/MW-day",
    ),
    Dataset.ORDC_ADDER: DatasetSpec(
        name=Dataset.ORDC_ADDER,
        schema=ORDC_ADDER_SCHEMA,
        required=(
            "iso",
            "interval_start",
            "interval_end",
            "rt_reserve_adder",
            "rt_reliability_deployment_adder",
        ),
        key=("iso", "interval_start"),
        values=("interval_end", "rt_reserve_adder", "rt_reliability_deployment_adder"),
        time_column="interval_start",
        end_column="interval_end",
        market_column=None,
        location_column=None,
        bounded_columns=("rt_reserve_adder", "rt_reliability_deployment_adder"),
        bounds=lambda info: ORDC_ADDER_BOUNDS,
        unit="$/MWh",
    ),
    Dataset.LOAD: DatasetSpec(
        name=Dataset.LOAD,
        schema=LOAD_SCHEMA,
        required=("iso", "zone", "kind", "interval_start", "interval_end", "mw"),
        # A forecast's vintage is part of its identity: a newer forecast for the
        # same hour is a different forecast, not a revision of the old one.
        key=("iso", "zone", "kind", "interval_start", "forecast_issued_at"),
        values=("interval_end", "mw"),
        time_column="interval_start",
        end_column="interval_end",
        market_column="kind",
        location_column="zone",
        bounded_columns=("mw",),
        bounds=lambda info: LOAD_MW_BOUNDS,
        unit="MW",
    ),
}


def spec(dataset: str | Dataset) -> DatasetSpec:
    """The spec of a dataset by name; raises KeyError listing the valid names."""
    try:
        return SPECS[Dataset(dataset)]
    except ValueError:
        valid = ", ".join(d.value for d in Dataset)
        raise KeyError(f"unknown dataset {dataset!r}; expected one of {valid}") from None


def infer_dataset(columns: list[str]) -> Dataset:
    """The dataset whose required columns are all present; raises ValueError if none or several fit."""
    present = set(columns)
    fits = [s.name for s in SPECS.values() if set(s.required) <= present]
    # ordc_adder and lmp share no required columns, but a wide file could fit
    # several; the most specific (most required columns) wins.
    if not fits:
        raise ValueError(
            "cannot tell which dataset these columns belong to: "
            + "; ".join(f"{s.name}: needs {', '.join(s.required)}" for s in SPECS.values())
        )
    fits.sort(key=lambda d: len(SPECS[d].required), reverse=True)
    return fits[0]


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: its name, the 0-based rows that break it and why."""

    rule: str
    message: str
    rows: tuple[int, ...] = ()

    def describe(self, max_rows: int = 10) -> str:
        if not self.rows:
            return f"[{self.rule}] {self.message}"
        shown = ", ".join(str(r) for r in self.rows[:max_rows])
        more = f" and {len(self.rows) - max_rows} more" if len(self.rows) > max_rows else ""
        return f"[{self.rule}] {self.message}: {len(self.rows)} row(s) ({shown}{more})"


@dataclass
class ValidationError(ValueError):
    """A batch broke one or more rules; it was rejected whole."""

    dataset: str
    violations: list[Violation] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"{self.dataset}: batch rejected, nothing written"]
        lines += ["  " + v.describe() for v in self.violations]
        return "\n".join(lines)


def _rows(mask: pa.Array | pa.ChunkedArray) -> tuple[int, ...]:
    filled = pc.fill_null(mask, False)
    if not pc.any(filled).as_py():  # the common case: skip unpacking the bitmap
        return ()
    return tuple(int(i) for i in np.flatnonzero(np.asarray(filled)))


def _unreadable_numbers(name: str, col: pa.ChunkedArray) -> tuple[pa.ChunkedArray, Violation]:
    """A text column of numbers cast leniently (unreadable cells null) and the rule naming those cells."""
    text = col.cast(pa.string())
    lenient = pl.Series(name, text).str.strip_chars().cast(pl.Float64, strict=False)
    bad = np.flatnonzero(np.asarray(pc.is_valid(text)) & lenient.is_null().to_numpy())
    first = text[int(bad[0])].as_py()
    shown = first if len(first) <= _SHOWN_CHARS else first[:_SHOWN_CHARS] + "..."
    violation = Violation(
        "type", f"{name} must be a number (first bad value {shown!r})", tuple(int(r) for r in bad)
    )
    return pa.chunked_array([lenient.to_arrow()], pa.float64()), violation


def _conform_types(
    spec_: DatasetSpec, table: pa.Table, violations: list[Violation]
) -> tuple[pa.Table | None, dict[str, tuple[int, ...]]]:
    """Cast each column to its canonical type, adding absent optional columns as nulls.

    Also returns, per column, the rows whose text is not a number: those
    cells are null in the table and named by rule `type` with their rows, so the row
    rules still run on the rest of the batch and report everything at once.
    """
    missing = [c for c in spec_.required if c not in table.column_names]
    if missing:
        violations.append(Violation("missing_column", f"required column(s) absent: {', '.join(missing)}"))
        return None, {}
    columns: list[pa.ChunkedArray] = []
    unreadable: dict[str, tuple[int, ...]] = {}
    fatal = False
    for f in spec_.schema:
        if f.name not in table.column_names:
            columns.append(pa.chunked_array([pa.nulls(table.num_rows, f.type)], f.type))
            continue
        col = table.column(f.name)
        if pa.types.is_timestamp(f.type):
            if pa.types.is_timestamp(col.type) and col.type.tz is None:
                violations.append(
                    Violation("utc_timestamp", f"{f.name} has no time zone; timestamps must be UTC-aware")
                )
                fatal = True
                continue
            if not pa.types.is_timestamp(col.type) and not pa.types.is_null(col.type):
                violations.append(Violation("type", f"{f.name} is {col.type}, expected {f.type}"))
                fatal = True
                continue
        try:
            columns.append(col.cast(f.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            if pa.types.is_floating(f.type) and (
                pa.types.is_string(col.type) or pa.types.is_large_string(col.type)
            ):
                cast, violation = _unreadable_numbers(f.name, col)
                columns.append(cast)
                violations.append(violation)
                unreadable[f.name] = violation.rows
                continue
            violations.append(Violation("type", f"{f.name} is {col.type}, expected {f.type} ({exc})"))
            fatal = True
    if fatal:
        return None, unreadable
    return pa.Table.from_arrays(columns, schema=spec_.schema), unreadable


def _check_rows(spec_: DatasetSpec, t: pa.Table, unreadable: dict[str, tuple[int, ...]]) -> list[Violation]:
    v: list[Violation] = []
    for name in spec_.required:
        # A cell that did not read as a number is already named by rule `type`.
        nulls = tuple(sorted(set(_rows(pc.is_null(t.column(name)))) - set(unreadable.get(name, ()))))
        if nulls:
            v.append(Violation("not_null", f"{name} is required", nulls))
    for name in spec_.schema.names:
        if pa.types.is_string(spec_.schema.field(name).type):
            blank = _rows(pc.equal(pc.utf8_trim_whitespace(t.column(name)), ""))
            if blank:
                v.append(Violation("not_blank", f"{name} is empty", blank))

    isos = t.column("iso")
    known = pa.array([i.value for i in Iso])
    unknown = _rows(pc.invert(pc.is_in(isos, value_set=known)))
    if unknown:
        v.append(Violation("unknown_iso", f"iso must be one of {', '.join(known.to_pylist())}", unknown))

    bad_order = _rows(pc.less_equal(t.column(spec_.end_column), t.column(spec_.time_column)))
    if bad_order:
        v.append(
            Violation("interval_order", f"{spec_.end_column} must be after {spec_.time_column}", bad_order)
        )

    present = [ISOS[Iso(i)] for i in pc.unique(isos).to_pylist() if i in _ISO_NAMES]
    for name in spec_.bounded_columns:
        col = t.column(name)
        non_finite = _rows(pc.invert(pc.is_finite(col)))
        if non_finite:
            v.append(Violation("finite", f"{name} must be a finite number", non_finite))
        for info in present:
            b = spec_.bounds(info)
            outside = pc.or_(pc.less(col, b.low), pc.greater(col, b.high))
            if len(present) > 1:  # most batches hold one ISO: skip the per-row ISO test then
                outside = pc.and_(pc.equal(isos, info.iso.value), outside)
            rows = _rows(outside)
            if rows:
                v.append(
                    Violation(
                        "bounds",
                        f"{name} outside {b.contains_description()} {spec_.unit} for {info.iso.value}",
                        rows,
                    )
                )

    if spec_.name is Dataset.LOAD:
        kinds = pa.array([k.value for k in LoadKind])
        unknown_kind = _rows(pc.invert(pc.is_in(t.column("kind"), value_set=kinds)))
        if unknown_kind:
            v.append(
                Violation("unknown_kind", f"kind must be one of {', '.join(kinds.to_pylist())}", unknown_kind)
            )

    if spec_.name is Dataset.LMP:
        total = pc.add(pc.add(t.column("energy"), t.column("congestion")), t.column("loss"))
        off = pc.greater(pc.abs(pc.subtract(t.column("lmp"), total)), COMPONENT_TOLERANCE)
        rows = _rows(off)  # null where any component is absent: not checked
        if rows:
            v.append(
                Violation(
                    "components",
                    f"lmp differs from energy + congestion + loss by more than {COMPONENT_TOLERANCE}",
                    rows,
                )
            )
    return v


def _key_conflicts(spec_: DatasetSpec, t: pa.Table) -> list[Violation]:
    """Rows giving one key twice with different values (rule `duplicate_key`), as the store refuses them."""
    frame = pl.from_arrow(t.select([*spec_.key, *spec_.values]))
    assert isinstance(frame, pl.DataFrame)
    key = list(spec_.key)
    differing = (
        frame.with_row_index("__row")
        .filter(pl.struct(key).is_duplicated())
        .filter(pl.struct(list(spec_.values)).n_unique().over(key) > 1)
    )
    if differing.height == 0:
        return []
    rows = tuple(sorted(int(r) for r in differing["__row"]))
    return [Violation("duplicate_key", f"same {', '.join(key)} given twice with different values", rows)]


def positive_zero(table: pa.Table) -> pa.Table:
    """The table with every -0.0 written as 0.0.

    Normalised here, at the single gate in front of the store, so a -0.0 is
    never stored: it equals 0.0 in every comparison (so it is never a
    revision), yet prints as "-0.0" in JSON and CSV answers and in files
    written from them. Adding +0.0 is the IEEE identity for every other
    value (NaN and nulls included) and turns -0.0 into 0.0 in one vector pass.
    """
    for i, f in enumerate(table.schema):
        if pa.types.is_floating(f.type):
            table = table.set_column(i, f, pc.add(table.column(i), pa.scalar(0.0, f.type)))
    return table


def validate(dataset: str | Dataset, table: pa.Table) -> pa.Table:
    """Check a batch against every rule of its dataset and return it in canonical form.

    The returned table has exactly the canonical columns in canonical order and
    types, with absent optional columns filled with nulls and -0.0 written as
    0.0. Key uniqueness (rule `duplicate_key`) of a valid batch is checked by
    the store, which sorts each batch anyway; a batch failing other rules is
    checked for it here, so the error names every rule the batch breaks.
    Raises `ValidationError` naming each broken rule and its rows; the caller
    must then write nothing.
    """
    spec_ = spec(dataset)
    violations: list[Violation] = []
    conformed, unreadable = _conform_types(spec_, table, violations)
    if conformed is None:
        raise ValidationError(spec_.name.value, violations)
    violations += _check_rows(spec_, conformed, unreadable)
    if violations:
        violations += _key_conflicts(spec_, conformed)
        raise ValidationError(spec_.name.value, violations)
    return positive_zero(conformed)
