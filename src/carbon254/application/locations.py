"""The location catalog as a caller may see it: the ISOs it is entitled to, filtered by name and type."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from carbon254.application.identity import Principal
from carbon254.schema import Dataset
from carbon254.store.base import Source, Store

LOCATION_COLUMNS = ("iso", "location", "location_type", "source")


def visible_locations(
    store: Store,
    principal: Principal,
    *,
    iso: str | None,
    search: str | None,
    location_type: str | None,
) -> pa.Table:
    """The catalog (iso, location, location_type, source) filtered, limited to ISOs `principal` may see.

    The catalog lists LMP locations, so an ISO is visible when the caller's
    tenant may read its `lmp` rows. Shared by REST and GraphQL.
    """
    table = store.locations(iso=iso, search=search, location_type=location_type)
    if principal.entitlements.isos is not None or principal.entitlements.datasets is not None:
        isos = pc.unique(table.column("iso")).to_pylist()
        allowed = [i for i in isos if principal.entitlements.allows_data(i, Dataset.LMP.value)]
        table = table.filter(pc.is_in(table.column("iso"), value_set=pa.array(allowed, pa.string())))
    return table.select(list(LOCATION_COLUMNS))


def lists_simulated(table: pa.Table) -> bool:
    """Whether any location of a catalog table (as `visible_locations` returns it) is simulated."""
    return bool(pc.any(pc.equal(table.column("source"), Source.SIMULATED.value)).as_py())
