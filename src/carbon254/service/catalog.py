"""Name lookups for the service: `carbon254.names` rules, answered with a 404 and suggestions."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from carbon254 import names
from carbon254.isos import Iso
from carbon254.schema import Dataset
from carbon254.service.errors import ApiError, not_found
from carbon254.store.base import Store


def _not_found(exc: names.UnknownName) -> ApiError:
    return not_found(exc.parameter, exc.message, exc.suggestions)


def resolve_iso(text: str) -> Iso:
    """The ISO named by `text` (any case); 404 with close matches otherwise."""
    try:
        return names.resolve_iso(text, "iso")
    except names.UnknownName as exc:
        raise _not_found(exc) from None


def resolve_market(store: Store, dataset: Dataset, iso: Iso, text: str) -> str:
    """The stored market name for `text`; 404 listing the markets with data otherwise."""
    what = f"{iso.value} {dataset.value} market"
    try:
        return names.resolve_names(
            "market", what, [text.strip()], store.markets(dataset, iso.value), suggest_all=True
        )[0]
    except names.UnknownName as exc:
        raise _not_found(exc) from None


def resolve_locations(catalog: pa.Table, iso: Iso, requested: Sequence[str]) -> list[str]:
    """Catalog names for the requested locations, in request order; 404 naming every unknown one."""
    try:
        return names.resolve_names(
            "locations", f"{iso.value} location(s)", requested, catalog.column("location")
        )
    except names.UnknownName as exc:
        raise _not_found(exc) from None
