"""One declaration per analytics operation, from which every surface follows.

An `Operation` names what a caller sends (`request`, a Pydantic model whose
fields are the parameters, as text exactly as typed), what comes back (the
columns of its rows and, optionally, a statistics dataclass), the analytics
feature a tenant needs, and two functions:

- `check(context, request)` validates the parameters (no rows read) and
  returns a checked call that names the stored data it reads as
  `DatasetQuery`s (`inputs`), built through `CallContext.query`, which
  checks the caller's entitlements before anything about the data is
  revealed (not even which markets exist);
- `compute(checked, inputs)` receives those inputs' rows, with their
  location names in the catalog's spelling, and returns the `Answer`: it is
  where the domain function is called.

`OperationCall` joins the two into an `Answerable`, so the layer gives every
operation, for free, what stored datasets have: a cache key from its inputs
and parameters, an ETag from the data versions of what it reads, entitlement
checks (the feature and every dataset read), the `simulated` flag, and the
four formats. The REST route, GraphQL field, CLI command, SDK method and
Excel function are generated from or checked against the declaration (see
`carbon254.service.routes.operations`, `carbon254.service.graphql.operations`,
`carbon254.cli.operations`, the SDK's `queries` and `carbon254.excel`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import orjson
import pyarrow as pa
from pydantic import BaseModel, ConfigDict

from carbon254.application.answer import Answer, combined_version
from carbon254.application.catalog import resolve_iso
from carbon254.application.datasets import (
    DatasetQuery,
    build_query,
    read_rows,
    with_catalog_names,
)
from carbon254.application.errors import ApiError, renamed
from carbon254.application.identity import Principal, entitle_data, entitle_feature
from carbon254.application.params import required_text
from carbon254.config import Settings
from carbon254.schema import Dataset
from carbon254.store.base import Store, any_simulated

if TYPE_CHECKING:
    # Only for annotations: most operations never touch the metadata database.
    from carbon254.metadata.database import MetadataDatabase


class OperationRequest(BaseModel):
    """Base of every operation's parameters: frozen, and an unknown field is an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ColumnType(StrEnum):
    """The type of a result column, as every surface spells it (Arrow, GraphQL, Excel)."""

    TIMESTAMP = "timestamp"
    TEXT = "text"
    FLOAT = "float"
    INTEGER = "integer"


@dataclass(frozen=True, slots=True)
class Column:
    """One column of an operation's rows: its name, type and a description with its unit."""

    name: str
    type: ColumnType
    description: str


class Checked(Protocol):
    """What an operation's `check` returns: a validated call that knows what stored data it reads."""

    @property
    def inputs(self) -> tuple[DatasetQuery, ...]:
        """The stored slices the call reads, in the order `compute` receives them."""
        ...

    @property
    def renames(self) -> tuple[Mapping[str, str], ...]:
        """Per input, the caller's name of each dataset parameter the operation names differently."""
        ...

    @property
    def tz(self) -> str | None:
        """The IANA zone of output times (None: UTC)."""
        ...

    def parameters(self) -> dict[str, Any]:
        """Every parameter that shapes the answer beyond the inputs, JSON-ready (part of the cache key)."""
        ...


class ExcelReader(StrEnum):
    """How the Excel add-in reads an argument cell: trimmed text, one location, a date, a number, a month.

    A month is `YYYY-MM` text or a date cell (its month), since Excel turns a
    typed 2027-01 into a date.
    """

    TEXT = "text"
    LOCATION = "location"
    TIME = "time"
    NUMBER = "number"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class ExcelArgument:
    """One argument of an operation's Excel function, filling the request field `field`.

    `name` is Excel's name for it (`node` for a spread's `location`);
    `default` fills the field when the cell is left out; an argument with
    `optional` and no default is simply not sent.
    """

    name: str
    field: str
    reader: ExcelReader
    description: str
    optional: bool = False
    default: str | None = None


@dataclass(frozen=True, slots=True)
class ExcelFunction:
    """How an operation appears in Excel: `=C254.<id>(arguments...)` spilling `columns` with a header row.

    `fixed` are parameters every call sends (`tz=iso`: Excel shows the ISO's
    market time, as every C254 function does). `scalar` names the column
    whose value is the whole answer (one number, no header) when the answer
    has exactly one row and every argument in `scalar_when` was given: a
    price asked for by month and block fits in the cell it is typed in.
    """

    id: str
    description: str
    arguments: tuple[ExcelArgument, ...]
    columns: tuple[str, ...]
    fixed: tuple[tuple[str, str], ...] = ()
    scalar: str | None = None
    scalar_when: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        names = {a.name for a in self.arguments}
        if self.scalar is not None and self.scalar not in self.columns:
            raise ValueError(f"Excel {self.id}: scalar column {self.scalar!r} is not one of its columns")
        unknown = [n for n in self.scalar_when if n not in names]
        if unknown:
            raise ValueError(f"Excel {self.id}: scalar_when names unknown arguments {', '.join(unknown)}")


@dataclass(frozen=True, slots=True)
class Input:
    """One input of a call as read: the query, with catalog names, and its rows (all stored columns)."""

    query: DatasetQuery
    rows: pa.Table


@dataclass(frozen=True, slots=True)
class CallContext:
    """What `check` may use: the store (markets), the settings (limits), the caller and the metadata DB.

    `metadata` holds what users mark rather than what ISOs publish (forward
    curves, scenarios); an operation that reads it calls `require_metadata`.
    """

    store: Store
    settings: Settings
    principal: Principal
    feature: str
    metadata: MetadataDatabase | None = None

    def require_metadata(self) -> MetadataDatabase:
        """The metadata database; a server error if the surface did not pass one (a wiring bug)."""
        if self.metadata is None:
            raise RuntimeError(f"the {self.feature} operations need the metadata database")
        return self.metadata

    def query(
        self, dataset: Dataset, *, iso: str, rename: Mapping[str, str] | None = None, **parameters: Any
    ) -> DatasetQuery:
        """A checked `DatasetQuery` (see `build_query` for `parameters`), entitled before it is built.

        The ISO is resolved first (404 with suggestions), then the caller must
        hold the operation's feature and the dataset of that ISO (403), and
        only then are markets and the rest checked (422/404). `rename` maps
        dataset parameter names to the caller's in errors.
        """
        iso_ = resolve_iso(required_text("iso", iso))
        entitle_feature(self.principal, self.feature)
        entitle_data(self.principal, iso_.value, dataset)
        try:
            return build_query(self.store, self.settings, dataset, iso=iso_, **parameters)
        except ApiError as exc:
            raise renamed(exc, rename or {}) from None


RequestT = TypeVar("RequestT", bound=OperationRequest)
CheckedT = TypeVar("CheckedT", bound=Checked)


@dataclass(frozen=True, slots=True)
class Operation(Generic[RequestT, CheckedT]):
    """The declaration of one analytics operation (see the module docstring).

    `name` is the operation everywhere: `/v1/<name>`, the GraphQL field, the
    CLI command, the SDK method; `path` replaces it in the REST path
    (`curves/hpfc`) and `command` in the CLI (`("curve", "hpfc")` is
    `carbon254 curve hpfc`). `unit` is the unit of its values.
    `needs_metadata` says `check` reads the metadata database (marked curves,
    scenarios), so the CLI opens it and needs no market store.
    `stats`, when not None, is the dataclass of the summary its `Answer`
    carries under `head["stats"]` when the request asks for it; `excel`,
    when not None, is its function in the Excel add-in.
    """

    name: str
    summary: str
    description: str
    feature: str
    unit: str
    request: type[RequestT]
    columns: tuple[Column, ...]
    check: Callable[[CallContext, RequestT], CheckedT]
    compute: Callable[[CheckedT, Sequence[Input]], Answer]
    stats: type | None = None
    excel: ExcelFunction | None = None
    path: str | None = None
    command: tuple[str, str] | None = None
    needs_metadata: bool = False

    @property
    def rest_path(self) -> str:
        """The REST path, e.g. `/v1/spreads` or `/v1/curves/hpfc`."""
        return f"/v1/{self.path or self.name}"

    def call(
        self,
        store: Store,
        settings: Settings,
        principal: Principal,
        request: RequestT,
        metadata: MetadataDatabase | None = None,
    ) -> OperationCall[CheckedT]:
        """The checked call of `request` by `principal`; raises `ApiError` (403, 404, 422)."""
        context = CallContext(store, settings, principal, self.feature, metadata)
        return OperationCall(self, self.check(context, request))

    def parse(self, parameters: dict[str, Any]) -> RequestT:
        """The request model of `parameters` as a surface received them; raises pydantic's error."""
        return self.request.model_validate(parameters)


@dataclass(frozen=True, slots=True)
class OperationCall(Generic[CheckedT]):
    """A checked call of an operation: `Answerable` like a stored dataset query."""

    operation: Operation[Any, CheckedT]
    checked: CheckedT

    @property
    def tz(self) -> str | None:
        """The IANA zone of output times (None: UTC)."""
        return self.checked.tz

    @property
    def filename(self) -> str:
        """A download name, e.g. `spreads_ercot`."""
        isos = dict.fromkeys(q.iso.value for q in self.checked.inputs)
        return "_".join([self.operation.name, *isos]).lower()

    def key(self) -> str:
        """Canonical text of the call: the operation, its inputs' keys and its other parameters."""
        parts = [self.operation.name, [q.key() for q in self.checked.inputs], self.checked.parameters()]
        return orjson.dumps(parts, option=orjson.OPT_SORT_KEYS).decode()

    def data_version(self, store: Store) -> str:
        """Changes whenever any stored slice the call reads changes."""
        return combined_version(q.data_version(store) for q in self.checked.inputs)

    def entitle(self, principal: Principal) -> None:
        """403 unless the tenant has the operation's feature and may read every input."""
        entitle_feature(principal, self.operation.feature)
        for query in self.checked.inputs:
            query.entitle(principal)

    def answer(self, store: Store) -> Answer:
        """Read every input (names in catalog spelling; 404 for unknown ones), then compute."""
        inputs, simulated = self.read(store)
        computed = self.operation.compute(self.checked, inputs)
        head = {"simulated": simulated, "unit": self.operation.unit, **computed.head}
        return Answer(computed.table, head)

    def read(self, store: Store) -> tuple[list[Input], bool]:
        """Every input's rows (names in catalog spelling; 404 for unknown ones), and whether any is simulated.

        For a surface that needs more of a call than its `Answer` (a chart of
        the computed result). Each input is its own store read, even a node
        and its hub in one market and window: the store prunes row groups by
        location, and one read of two far-apart names scanned the groups
        between them (a year of node and hub: 25 ms together, 19 ms apart).
        """
        catalogs: dict[str, pa.Table] = {}
        resolved: list[DatasetQuery] = []
        for query, rename in zip(self.checked.inputs, self.checked.renames, strict=True):
            if query.dataset is Dataset.LMP:
                iso = query.iso.value
                if iso not in catalogs:
                    catalogs[iso] = store.locations(iso=iso)
                try:
                    query = with_catalog_names(catalogs[iso], query)
                except ApiError as exc:
                    raise renamed(exc, rename) from None
            resolved.append(query)
        inputs = [Input(q, read_rows(store, q)) for q in resolved]
        simulated = any(
            any_simulated(catalogs[i.query.iso.value], i.rows.column("location"))
            for i in inputs
            if i.query.dataset is Dataset.LMP
        )
        return inputs, simulated


def stats_head(stats: Any) -> dict[str, Any]:
    """A statistics dataclass as the JSON-ready `stats` head field."""
    return {"stats": asdict(stats)}
