"""Dataset queries: checked once, run once, shared by REST and GraphQL so both answer the same rows.

A surface turns what the caller sent (query-string text or GraphQL
arguments) into a `DatasetQuery` with `build_query`, which applies every
parameter and catalog check and raises `ApiError` (422 naming the parameter,
404 with suggestions for an unknown market or LMP location). A query is
`Answerable` (`application.answer`): `answer_query` reads the store and
returns the dataset's response columns in a fixed order
(`DatasetQuery.columns`), sorted by location then time.

Building a query reads no data: only the manifest (which markets exist).
LMP locations are resolved against the location catalog when the query is
answered (`with_catalog_names`, one catalog read that also says whether the
rows are simulated), so a cached answer needs no catalog read. The
other datasets have no catalog: their names (ancillary regions and
products, capacity and load zones) are matched, in any case, against the
names present in the rows read, and an unknown one is a 404 listing those.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from carbon254 import names
from carbon254.application.answer import Answer
from carbon254.application.catalog import check_published, resolve_iso, resolve_locations, resolve_market
from carbon254.application.errors import BAD_PARAMETER_STATUS, ApiError, bad_parameter, not_found
from carbon254.application.identity import Principal, entitle_data
from carbon254.application.params import check_names, parse_instant, parse_tz, parse_window, required_text
from carbon254.config import Settings
from carbon254.excerpt import excerpt
from carbon254.isos import Iso
from carbon254.schema import SPECS, Dataset
from carbon254.store.base import Block, Resample, Store, any_simulated
from carbon254.timeseries import RESAMPLE_COLUMNS


@dataclass(frozen=True, slots=True)
class DatasetShape:
    """How one dataset is asked for and answered, on every surface.

    `market_parameter` names the dataset's market column as a parameter
    (`market`, `auction` for capacity, `kind` for load; None: no markets)
    and `names_parameter` its location filter (`locations`, `regions`,
    `zones`; None: no locations). `products` says whether a product filter
    exists (ancillary services); `presentation` whether `resample` and
    `block` are offered (not for capacity prices, whose periods are months
    or years long).
    """

    dataset: Dataset
    columns: tuple[str, ...]
    market_parameter: str | None
    market_required: bool
    names_parameter: str | None
    products: bool
    presentation: bool

    @property
    def unit(self) -> str:
        """The unit of the dataset's values, e.g. `$/MWh`."""
        return SPECS[self.dataset].unit


SHAPES: dict[Dataset, DatasetShape] = {
    Dataset.LMP: DatasetShape(
        Dataset.LMP,
        (
            "interval_start",
            "interval_end",
            "iso",
            "market",
            "location",
            "lmp",
            "energy",
            "congestion",
            "loss",
        ),
        market_parameter="market",
        market_required=True,
        names_parameter="locations",
        products=False,
        presentation=True,
    ),
    Dataset.AS_PRICE: DatasetShape(
        Dataset.AS_PRICE,
        ("interval_start", "interval_end", "iso", "market", "region", "product", "price"),
        market_parameter="market",
        market_required=True,
        names_parameter="regions",
        products=True,
        presentation=True,
    ),
    Dataset.CAPACITY_PRICE: DatasetShape(
        Dataset.CAPACITY_PRICE,
        ("delivery_start", "delivery_end", "iso", "auction", "zone", "price"),
        market_parameter="auction",
        market_required=False,
        names_parameter="zones",
        products=False,
        presentation=False,
    ),
    Dataset.ORDC_ADDER: DatasetShape(
        Dataset.ORDC_ADDER,
        ("interval_start", "interval_end", "iso", "rt_reserve_adder", "rt_reliability_deployment_adder"),
        market_parameter=None,
        market_required=False,
        names_parameter=None,
        products=False,
        presentation=True,
    ),
    Dataset.LOAD: DatasetShape(
        Dataset.LOAD,
        ("interval_start", "interval_end", "iso", "zone", "kind", "mw", "forecast_issued_at"),
        market_parameter="kind",
        market_required=False,
        names_parameter="zones",
        products=False,
        presentation=True,
    ),
}


@dataclass(frozen=True, slots=True)
class DatasetQuery:
    """One validated dataset query; hashable, so it can key a DataLoader batch.

    `market` is the stored market (auction, load kind) name, None for every
    one (or for a dataset without markets). `locations` are the names of the
    dataset's location column as asked for (None: all); `catalog_names` is
    True once LMP names are the catalog's spelling. `start`/`end` are UTC-aware,
    half-open on the dataset's time column; `tz` is the IANA zone of output
    times (None: UTC); `as_of` asks for the data as known at that instant.
    """

    dataset: Dataset
    iso: Iso
    market: str | None
    locations: tuple[str, ...] | None
    products: tuple[str, ...] | None
    start: datetime
    end: datetime
    tz: str | None = None
    resample: Resample | None = None
    block: Block | None = None
    as_of: datetime | None = None
    catalog_names: bool = False

    @property
    def shape(self) -> DatasetShape:
        """The dataset's parameters and response columns."""
        return SHAPES[self.dataset]

    @property
    def columns(self) -> tuple[str, ...]:
        """The response columns: the dataset's, then `coverage` and `intervals` when resampled."""
        columns = self.shape.columns
        return columns + RESAMPLE_COLUMNS if self.resample is not None else columns

    @property
    def filename(self) -> str:
        """A download name, e.g. `lmp_ercot_dam`."""
        market = f"_{self.market}" if self.market else ""
        return f"{self.dataset.value}_{self.iso.value}{market}".lower()

    def data_version(self, store: Store) -> str:
        """The store's version of this dataset, ISO, market and window (no rows read)."""
        return store.data_version(self.dataset, self.iso.value, self.market, self.start, self.end)

    def entitle(self, principal: Principal) -> None:
        """A 403 `ApiError` unless `principal` may read this dataset of this ISO."""
        entitle_data(principal, self.iso.value, self.dataset)

    def answer(self, store: Store) -> Answer:
        """The rows and head fields (see `answer_query`)."""
        return answer_query(store, self)

    def key(self) -> str:
        """A canonical text of the query: equal exactly for queries that answer the same rows.

        Pagination cursors, ETags and cache keys are bound to it. Times are
        UTC microseconds, so `2024-03-01` in New York and `2024-03-01T05:00Z`
        give one key.
        """
        return orjson.dumps(
            [
                self.dataset.value,
                self.iso.value,
                self.market,
                self.locations,
                self.products,
                _micros(self.start),
                _micros(self.end),
                self.tz,
                self.resample.value if self.resample else None,
                self.block.value if self.block else None,
                _micros(self.as_of) if self.as_of else None,
            ]
        ).decode()

    def batch_group(self) -> DatasetQuery:
        """This query without its name filters: queries with one group are answered by one store read."""
        return replace(self, locations=None, products=None, catalog_names=False)

    def describe(self) -> dict[str, Any]:
        """The query as understood, for response bodies: names as resolved, times in the output zone."""
        shape = self.shape
        zone = ZoneInfo(self.tz or "UTC")
        described: dict[str, Any] = {"iso": self.iso.value}
        if shape.market_parameter:
            described[shape.market_parameter] = self.market
        if shape.names_parameter:
            described[shape.names_parameter] = list(self.locations) if self.locations is not None else None
        if shape.products:
            described["products"] = list(self.products) if self.products is not None else None
        described["start"] = self.start.astimezone(zone).isoformat()
        described["end"] = self.end.astimezone(zone).isoformat()
        described["tz"] = self.tz or "UTC"
        if shape.presentation:
            described["resample"] = self.resample.value if self.resample else None
            described["block"] = self.block.value if self.block else None
        described["as_of"] = self.as_of.astimezone(zone).isoformat() if self.as_of else None
        return described


def _micros(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


_Choice = TypeVar("_Choice", Resample, Block)


def _choice(kind: type[_Choice], parameter: str, value: _Choice | str | None) -> _Choice | None:
    if value is None or isinstance(value, kind):
        return value
    try:
        return kind(value.strip().lower())
    except ValueError:
        valid = ", ".join(v.value for v in kind)
        message = f"invalid {parameter} {excerpt(value)}; expected one of {valid}"
        raise bad_parameter(parameter, message) from None


def build_query(
    store: Store,
    settings: Settings,
    dataset: Dataset,
    *,
    iso: Iso | str,
    start: str,
    end: str,
    market: str | None = None,
    locations: Sequence[str] | None = None,
    products: Sequence[str] | None = None,
    tz: str | None = None,
    resample: Resample | str | None = None,
    block: Block | str | None = None,
    as_of: str | None = None,
) -> DatasetQuery:
    """Check a caller's parameters for one dataset and return the query; reads no data.

    Text is as received (`start`/`end`/`as_of` ISO-8601, read in `tz` when
    they carry no offset; `tz` an IANA zone or `iso`). Raises `ApiError`:
    422 naming the parameter for malformed, out-of-range or inapplicable
    values (e.g. `market` for ORDC adders), 404 with suggestions for an
    unknown ISO or market. Callers check entitlements after resolving the
    ISO and before calling this, so an unentitled caller learns nothing
    about the markets held.
    """
    shape = SHAPES[dataset]
    iso_ = iso if isinstance(iso, Iso) else resolve_iso(required_text("iso", iso))
    check_published(store, dataset, iso_)
    tz_name = parse_tz(tz, iso_.value)
    window = parse_window(start, end, tz_name, settings.max_range_days)
    known_at = parse_instant("as_of", as_of, tz_name) if as_of is not None else None
    resample_ = _choice(Resample, "resample", resample)
    block_ = _choice(Block, "block", block)
    if not shape.presentation:
        if resample_ is not None:
            raise bad_parameter("resample", f"{dataset.value} cannot be resampled; omit resample")
        if block_ is not None:
            raise bad_parameter("block", f"{dataset.value} has no delivery blocks; omit block")

    market_: str | None = None
    parameter = shape.market_parameter
    if parameter is None:
        if market is not None:
            raise bad_parameter("market", f"{dataset.value} has no markets; omit market")
    elif market is not None and market.strip():
        market_ = resolve_market(store, dataset, iso_, market)
    elif shape.market_required:
        raise bad_parameter(parameter, f"query parameter '{parameter}' is required", code="missing_parameter")

    names_: tuple[str, ...] | None = None
    if locations is not None:
        if shape.names_parameter is None:
            raise bad_parameter("locations", f"{dataset.value} has no locations; omit locations")
        names_ = tuple(check_names(shape.names_parameter, locations, settings.max_locations))
    products_: tuple[str, ...] | None = None
    if products is not None:
        if not shape.products:
            raise bad_parameter("products", f"{dataset.value} has no products; omit products")
        products_ = tuple(check_names("products", products, settings.max_locations))

    return DatasetQuery(
        dataset=dataset,
        iso=iso_,
        market=market_,
        locations=names_,
        products=products_,
        start=window.start,
        end=window.end,
        tz=tz_name,
        resample=resample_,
        block=block_,
        as_of=known_at,
    )


def with_catalog_names(catalog: pa.Table, query: DatasetQuery) -> DatasetQuery:
    """The query with LMP location names in the spelling of `catalog` (`Store.locations` of its ISO).

    404 naming every unknown location. Other datasets, and queries already
    resolved, are returned unchanged: their names are checked against the
    rows read (`select_rows`).
    """
    if query.dataset is not Dataset.LMP or query.locations is None or query.catalog_names:
        return query
    resolved = resolve_locations(catalog, query.iso, query.locations)
    return replace(query, locations=tuple(resolved), catalog_names=True)


def read_rows(store: Store, query: DatasetQuery) -> pa.Table:
    """The store's rows for a query, before name filters other than LMP locations; all columns.

    LMP reads only the query's locations, which must be in the catalog's
    spelling already (`with_catalog_names`); the other datasets read every
    name of the window, which `select_rows` then filters: they hold a few
    dozen names per ISO at most.
    """
    if query.dataset is Dataset.LMP and query.locations is not None and not query.catalog_names:
        raise ValueError("LMP locations must be resolved against the catalog before reading")
    try:
        return store.read(
            query.dataset,
            query.iso.value,
            query.market,
            query.locations if query.dataset is Dataset.LMP else None,
            query.start,
            query.end,
            as_of=query.as_of,
            tz=query.tz,
            resample=query.resample,
            block=query.block,
        )
    except ValueError as exc:
        # Every parameter was checked; what the store still refuses is a
        # combination of them, which is the caller's to change.
        raise ApiError(BAD_PARAMETER_STATUS, "invalid_query", str(exc)) from None


def select_rows(table: pa.Table, query: DatasetQuery, *, exact: bool = False) -> pa.Table:
    """The rows of `table` (read for `query` or for its batch group) that `query` asks for.

    Applies the name filters and returns the response columns in order.
    `exact` says the table was read for this very query, so its LMP rows
    are already limited to the query's locations. LMP names must already be
    catalog names; other names are matched in any case against the names
    present, and an unknown one is a 404.
    """
    shape = query.shape
    spec = SPECS[query.dataset]
    lmp_read_exactly = exact and query.dataset is Dataset.LMP
    if query.locations is not None and spec.location_column is not None and not lmp_read_exactly:
        table = _keep(
            table, spec.location_column, query, query.locations, shape.names_parameter or "locations"
        )
    if query.products is not None:
        table = _keep(table, "product", query, query.products, "products")
    return table.select(list(query.columns))


def _keep(
    table: pa.Table, column: str, query: DatasetQuery, wanted: Sequence[str], parameter: str
) -> pa.Table:
    values = table.column(column)
    if query.dataset is Dataset.LMP:
        chosen = list(wanted)
    elif table.num_rows == 0:
        return table
    else:
        present = pc.unique(values)
        what = f"{query.iso.value} {query.dataset.value} {parameter} with data in the window"
        try:
            chosen = names.resolve_names(parameter, what, list(wanted), present, suggest_all=True)
        except names.UnknownName as exc:
            raise not_found(exc.parameter, exc.message, exc.suggestions) from None
    return table.filter(pc.is_in(values, value_set=pa.array(chosen, pa.string())))


def merged_query(group: DatasetQuery, queries: Sequence[DatasetQuery]) -> DatasetQuery:
    """One query reading what every one of `queries` (all of batch group `group`) needs.

    LMP reads the union of their catalog-spelled locations (every location
    if one of them asks for all); the other datasets read every name anyway.
    """
    if group.dataset is not Dataset.LMP or any(q.locations is None for q in queries):
        return group
    names = list(dict.fromkeys(n for q in queries for n in q.locations or ()))
    return replace(group, locations=tuple(names), catalog_names=True)


def answer_query(store: Store, query: DatasetQuery) -> Answer:
    """The rows a query asks for, and the head fields describing them; one catalog read for LMP.

    Rows are the dataset's response columns (`DatasetQuery.columns`), sorted
    by location then time. Raises `ApiError` 404 for unknown names and 422
    for a combination of parameters the store refuses.
    """
    catalog = store.locations(iso=query.iso.value) if query.dataset is Dataset.LMP else None
    if catalog is not None:
        query = with_catalog_names(catalog, query)
    table = select_rows(read_rows(store, query), query, exact=True)
    head: dict[str, Any] = {"simulated": False}
    if catalog is not None:
        head["simulated"] = any_simulated(catalog, table.column("location"))
    elif table.num_rows:
        head["simulated"] = store.simulated(
            query.dataset, query.iso.value, query.market, query.start, query.end
        )
    head["unit"] = query.shape.unit
    head["query"] = query.describe()
    return Answer(table, head)
