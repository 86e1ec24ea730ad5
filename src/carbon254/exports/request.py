"""What an export asks for: a dataset query with the REST routes' parameters, plus a file format."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, field_validator

from carbon254.application.catalog import resolve_iso
from carbon254.application.datasets import SHAPES, DatasetQuery, build_query, with_catalog_names
from carbon254.application.errors import bad_parameter
from carbon254.application.params import parse_names, required_text
from carbon254.config import Settings
from carbon254.excerpt import excerpt
from carbon254.exports.writers import ExportFormat
from carbon254.isos import Iso
from carbon254.schema import Dataset
from carbon254.store.base import Block, Resample, Store

# Which of the optional name parameters each dataset's route takes (`/v1/<dataset>`).
_NAME_PARAMETERS: dict[Dataset, tuple[str, ...]] = {
    Dataset.LMP: ("market", "locations"),
    Dataset.AS_PRICE: ("market", "regions", "products"),
    Dataset.CAPACITY_PRICE: ("auction", "zones"),
    Dataset.ORDC_ADDER: (),
    Dataset.LOAD: ("kind", "zones"),
}


class ExportRequest(BaseModel):
    """An export: the parameters of `/v1/<dataset>` as text, exactly as that route takes them, and `format`.

    Names are comma-separated (`"A,B"`) or a list. A parameter the dataset's
    route does not take is refused, as the route refuses it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    dataset: str = Dataset.LMP.value
    iso: str
    start: str
    end: str
    format: ExportFormat
    market: str | None = None
    auction: str | None = None
    kind: str | None = None
    locations: str | None = None
    regions: str | None = None
    zones: str | None = None
    products: str | None = None
    tz: str | None = None
    resample: str | None = None
    block: str | None = None
    as_of: str | None = None

    @field_validator("locations", "regions", "zones", "products", mode="before")
    @classmethod
    def _joined(cls, value: object) -> object:
        """A list of names as the comma-separated text the routes take."""
        if isinstance(value, list | tuple):
            return ",".join(str(v) for v in value)
        return value

    def dataset_(self) -> Dataset:
        """The dataset asked for; a 422 naming `dataset` when there is no such one."""
        try:
            return Dataset(self.dataset.strip().lower())
        except ValueError:
            valid = ", ".join(d.value for d in SHAPES)
            raise bad_parameter(
                "dataset", f"invalid dataset {excerpt(self.dataset)}; expected one of {valid}"
            ) from None

    def iso_(self) -> Iso:
        """The ISO asked for (404 with suggestions for an unknown one)."""
        return resolve_iso(required_text("iso", self.iso))

    @staticmethod
    def accepted(dataset: Dataset) -> tuple[str, ...]:
        """The fields an export of `dataset` takes (its route's parameters, less paging, plus `dataset`)."""
        presentation = ("resample", "block") if SHAPES[dataset].presentation else ()
        common = ("dataset", "iso", "start", "end", "tz", "as_of", "format")
        return common + _NAME_PARAMETERS[dataset] + presentation

    def query(self, store: Store, settings: Settings) -> DatasetQuery:
        """The checked query, with the route's checks and messages (`build_query`); reads no data.

        Callers check the tenant's entitlement to the dataset of `iso_()`
        first, as the routes do.
        """
        dataset = self.dataset_()
        taken = _NAME_PARAMETERS[dataset]
        given = {
            name: getattr(self, name)
            for name in ("market", "auction", "kind", "locations", "regions", "zones", "products")
            if getattr(self, name) is not None
        }
        inapplicable = [name for name in given if name not in taken]
        if not SHAPES[dataset].presentation:
            inapplicable += [name for name in ("resample", "block") if getattr(self, name) is not None]
        if inapplicable:
            name = inapplicable[0]
            accepted = ", ".join(sorted(set(self.accepted(dataset))))
            raise bad_parameter(
                name,
                f"query parameter '{name}' does not apply to /v1/{dataset.value}; it takes {accepted}",
                "unknown_parameter",
            )
        market = given.get("market", given.get("auction", given.get("kind")))
        if market is not None and dataset in (Dataset.LMP, Dataset.AS_PRICE):
            # Their routes require a market, so a blank one is refused as empty, not as missing.
            market = required_text("market", market)
        names_parameter = SHAPES[dataset].names_parameter
        names = (
            parse_names(names_parameter, given.get(names_parameter), settings.max_locations)
            if names_parameter
            else None
        )
        products = parse_names("products", self.products, settings.max_locations)
        return build_query(
            store,
            settings,
            dataset,
            iso=self.iso_(),
            start=self.start,
            end=self.end,
            market=market,
            locations=names,
            products=products,
            tz=self.tz,
            resample=self.resample,
            block=self.block,
            as_of=self.as_of,
        )

    def resolve(self, store: Store, settings: Settings) -> DatasetQuery:
        """`query` with LMP locations in the catalog's spelling: 404 naming unknown ones, as the route.

        Every refusal an export can meet before its rows are read is raised
        here, so a surface calls this before queuing the job.
        """
        query = self.query(store, settings)
        if query.dataset is Dataset.LMP and query.locations is not None:
            query = with_catalog_names(store.locations(iso=query.iso.value), query)
        return query


class QuerySlice(BaseModel):
    """One task's part of an export's query, as JSON-ready fields (a `DatasetQuery`'s)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dataset: Dataset
    iso: Iso
    market: str | None
    locations: tuple[str, ...] | None
    products: tuple[str, ...] | None
    start: datetime
    end: datetime
    tz: str | None
    resample: Resample | None
    block: Block | None
    as_of: datetime | None
    catalog_names: bool

    @classmethod
    def of(cls, query: DatasetQuery) -> QuerySlice:
        """The slice holding every field of `query`."""
        return cls(
            dataset=query.dataset,
            iso=query.iso,
            market=query.market,
            locations=query.locations,
            products=query.products,
            start=query.start,
            end=query.end,
            tz=query.tz,
            resample=query.resample,
            block=query.block,
            as_of=query.as_of,
            catalog_names=query.catalog_names,
        )

    def query(self) -> DatasetQuery:
        """The `DatasetQuery` of this slice."""
        return DatasetQuery(
            dataset=self.dataset,
            iso=self.iso,
            market=self.market,
            locations=self.locations,
            products=self.products,
            start=self.start,
            end=self.end,
            tz=self.tz,
            resample=self.resample,
            block=self.block,
            as_of=self.as_of,
            catalog_names=self.catalog_names,
        )
