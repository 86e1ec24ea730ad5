"""The requests the SDK sends, as validated Pydantic models that know their query parameters.

Times (`start`, `end`, `as_of`) may be ISO-8601 text, `date`s or
`datetime`s (a `pandas.Timestamp` is one), or text relative to the clock
(`today-30d`, `now-6h`), sent as it is and resolved by the service. A date or
a naive datetime is read by the service in `tz` (the ISO's market time for
`tz="iso"`, UTC when no `tz`); an aware datetime is an instant. `locations`
(and the other name filters) take one name or a list.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, field_validator

from carbon254.client.errors import InvalidRequest

TimeBound = str | datetime | date


class Resample(StrEnum):
    """Mean over calendar buckets of `tz` (else of the ISO's market time)."""

    HOURLY = "hourly"
    DAILY = "daily"
    MONTHLY = "monthly"


class Block(StrEnum):
    """Delivery blocks in the ISO's market time (on-peak is hour-ending 7-22 on NERC weekdays)."""

    ONPEAK = "onpeak"
    OFFPEAK = "offpeak"
    ATC = "atc"
    TWO_BY_16 = "2x16"
    SEVEN_BY_8 = "7x8"


def _names(value: Any) -> Any:
    """One name as a one-name list; a list (or tuple) kept; None kept."""
    if value is None or isinstance(value, str):
        return None if value is None else [value]
    return list(value) if isinstance(value, Sequence) else value


Names = Annotated[tuple[str, ...] | None, BeforeValidator(_names)]


def bound_text(value: TimeBound) -> str:
    """A time bound as the service reads it: dates as `YYYY-MM-DD`, datetimes in ISO-8601."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


class Query(BaseModel):
    """A request of one endpoint: `path`, and `params()` for its query string."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)

    path: ClassVar[str]

    def params(self) -> dict[str, str]:
        """The query-string parameters: lists comma-joined, times as text, unset ones left out."""
        found: dict[str, str] = {}
        for name, value in self:
            if value is None:
                continue
            if isinstance(value, bool):
                found[name] = "true" if value else "false"
            elif isinstance(value, tuple):
                found[name] = ",".join(value)
            elif isinstance(value, StrEnum):
                found[name] = value.value
            elif isinstance(value, date | datetime):
                found[name] = bound_text(value)
            else:
                found[name] = str(value)
        return found

    @field_validator("*", mode="after")
    @classmethod
    def _no_blank_names(cls, value: Any) -> Any:
        if isinstance(value, tuple) and any(not isinstance(n, str) or not n.strip() for n in value):
            raise ValueError("names must be non-empty strings")
        if isinstance(value, str) and not value.strip():
            raise ValueError("must not be empty")
        return value


class _Windowed(Query):
    start: TimeBound
    end: TimeBound
    tz: str | None = None
    as_of: TimeBound | None = None


class LmpQuery(_Windowed):
    """`GET /v1/lmp`: LMPs ($/MWh) of one ISO and market, every location when `locations` is None."""

    path: ClassVar[str] = "/v1/lmp"
    iso: str
    market: str
    locations: Names = None
    resample: Resample | None = None
    block: Block | None = None


class AsPriceQuery(_Windowed):
    """`GET /v1/as_price`: ancillary service prices ($/MW-h) of one ISO and market."""

    path: ClassVar[str] = "/v1/as_price"
    iso: str
    market: str
    regions: Names = None
    products: Names = None
    resample: Resample | None = None
    block: Block | None = None


class CapacityPriceQuery(_Windowed):
    """`GET /v1/capacity_price`: capacity auction prices ($/MW-day) for delivery starting in [start, end)."""

    path: ClassVar[str] = "/v1/capacity_price"
    iso: str
    auction: str | None = None
    zones: Names = None


class OrdcQuery(_Windowed):
    """`GET /v1/ordc_adder`: ERCOT's real-time reserve price adders ($/MWh)."""

    path: ClassVar[str] = "/v1/ordc_adder"
    iso: str = "ERCOT"
    resample: Resample | None = None
    block: Block | None = None


class LoadQuery(_Windowed):
    """`GET /v1/load`: zonal load (MW), actual and forecast."""

    path: ClassVar[str] = "/v1/load"
    iso: str
    kind: str | None = None
    zones: Names = None
    resample: Resample | None = None
    block: Block | None = None


class SpreadsQuery(_Windowed):
    """`GET /v1/spreads`: LMP of `location` in `market` minus LMP of `minus` in `minus_market` ($/MWh).

    Mirrors the service's `SpreadsRequest` field for field (a test keeps
    them in step).
    """

    path: ClassVar[str] = "/v1/spreads"
    iso: str
    market: str
    location: str
    minus: str
    minus_market: str | None = None
    block: Block | None = None
    resample: Resample | None = None
    stats: bool = False
    threshold: float = 0.0


class CurveQuery(Query):
    """`GET /v1/curves`: a hub's marked monthly block prices ($/MWh), the latest mark on or before `as_of`.

    This and the other curve queries mirror the service's request models
    field for field (a test keeps them in step).
    """

    path: ClassVar[str] = "/v1/curves"
    hub: str
    iso: str | None = None
    as_of: str | None = None
    version: int | None = None
    month: str | None = None
    block: Block | None = None


class CurveHpfcQuery(Query):
    """`GET /v1/curves/hpfc`: a mark shaped to hours ($/MWh), months [start, end) as `YYYY-MM`."""

    path: ClassVar[str] = "/v1/curves/hpfc"
    iso: str | None = None
    hub: str
    as_of: str | None = None
    start: str | None = None
    end: str | None = None
    tz: str | None = None


class CurveDiffQuery(Query):
    """`GET /v1/curves/diff`: the mark of `as_of` minus the mark of `against`, by month and block ($/MWh)."""

    path: ClassVar[str] = "/v1/curves/diff"
    iso: str
    hub: str
    as_of: str
    against: str
    block: Block | None = None


class NodeCurveQuery(Query):
    """`GET /v1/curves/node`: a node's curve, its hub's mark plus the basis from stored prices ($/MWh)."""

    path: ClassVar[str] = "/v1/curves/node"
    iso: str
    hub: str
    node: str
    as_of: str | None = None
    estimator: str = "median"


class CurveQuotesQuery(Query):
    """`GET /v1/curves/quotes`: the quotes a mark was fitted to ($/MWh), with implied prices."""

    path: ClassVar[str] = "/v1/curves/quotes"
    hub: str
    iso: str | None = None
    as_of: str | None = None
    version: int | None = None


class CurveHistoryQuery(Query):
    """`GET /v1/curves/history`: day-over-day changes of each tenor M+k over as-of days [start, end)."""

    path: ClassVar[str] = "/v1/curves/history"
    iso: str
    hub: str
    start: str
    end: str
    block: Block = Block.ONPEAK


def day_text(value: str | date | None) -> str | None:
    """A market day as the curve routes read it (`YYYY-MM-DD`); text (`today`, `2027-01`) kept as given."""
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


def month_text(value: str | date | None) -> str | None:
    """A delivery month as `YYYY-MM` (a date names its month); text kept as given."""
    if value is None or isinstance(value, str):
        return value
    return f"{value:%Y-%m}"


class ExportFormat(StrEnum):
    """The file formats an export is written in (XLSX splits rows past Excel's limit across sheets)."""

    CSV = "csv"
    PARQUET = "parquet"
    XLSX = "xlsx"


class ExportQuery(_Windowed):
    """The request of an `export` job: the parameters of `/v1/<dataset>` as text, and the file `format`.

    Not a GET: `params()` is the job's request as `POST /v1/jobs` takes it
    (names comma-joined, times as text, unset ones left out). Which name
    parameters apply depends on `dataset`, as for its route (`market` and
    `locations` for LMPs; `auction`, `kind`, `regions`, `products`, `zones`
    for the others); the service refuses one that does not apply.
    """

    path: ClassVar[str] = "/v1/jobs"
    dataset: str = "lmp"
    iso: str
    format: ExportFormat
    market: str | None = None
    auction: str | None = None
    kind: str | None = None
    locations: Names = None
    regions: Names = None
    zones: Names = None
    products: Names = None
    resample: Resample | None = None
    block: Block | None = None


def stats_request(**fields: Any) -> dict[str, Any]:
    """The spread request that asks only for statistics: JSON with `stats=true`, rows monthly.

    The statistics are computed on the intervals before any resampling, so
    asking for monthly rows changes nothing in them and keeps the answer a
    few rows long whatever the window.
    """
    return {**fields, "resample": Resample.MONTHLY, "stats": True}


class LocationsQuery(Query):
    """`GET /v1/locations`: the priced locations, optionally of one ISO, type or name fragment."""

    path: ClassVar[str] = "/v1/locations"
    iso: str | None = None
    search: str | None = None
    type: str | None = None


class QualityQuery(Query):
    """`GET /v1/quality`: expected vs present intervals per market day."""

    path: ClassVar[str] = "/v1/quality"
    start: TimeBound
    end: TimeBound
    iso: str | None = None
    dataset: str = "lmp"
    market: str | None = None


def _as_bound(value: TimeBound) -> date | datetime | None:
    """`value` as a date or datetime (text parsed as ISO-8601), or None when it cannot be split."""
    if isinstance(value, date):
        return value
    try:
        return datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
    except ValueError:
        return None


QueryT = TypeVar("QueryT", bound=Query)


def checked(model: type[QueryT], /, **fields: Any) -> QueryT:
    """`model(**fields)`, or `InvalidRequest` naming the first bad parameter (nothing is sent)."""
    try:
        return model(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        parameter = str(first["loc"][0]) if first["loc"] else None
        raise InvalidRequest(f"{parameter}: {first['msg']}", parameter=parameter) from None


Day = TypeVar("Day", date, datetime)


def _pieces(first: Day, last: Day, step: timedelta) -> list[tuple[TimeBound, TimeBound]]:
    pieces: list[tuple[TimeBound, TimeBound]] = []
    cursor = first
    while cursor < last:
        following = min(cursor + step, last)
        pieces.append((cursor, following))
        cursor = following
    return pieces


def split_window(start: TimeBound, end: TimeBound, days: int) -> list[tuple[TimeBound, TimeBound]]:
    """[start, end) cut into consecutive pieces of at most `days` days, in the bounds' own terms.

    Dates stay dates and naive datetimes stay naive, so the service reads
    every piece in the same zone as the whole; aware datetimes stay aware.
    Bounds that cannot be compared (mixed kinds, relative text such as
    `today-30d`, which only the service resolves, unparsable text) or a
    window no longer than `days` come back whole.
    """
    first, last = _as_bound(start), _as_bound(end)
    step = timedelta(days=days)
    if isinstance(first, datetime) and isinstance(last, datetime):
        if (first.tzinfo is None) == (last.tzinfo is None) and first + step < last:
            return _pieces(first, last, step)
    elif (
        isinstance(first, date)
        and isinstance(last, date)
        and not isinstance(first, datetime)
        and not isinstance(last, datetime)
        and first + step < last
    ):
        return _pieces(first, last, step)
    return [(start, end)]
