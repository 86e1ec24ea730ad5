"""Name lookups for the service: `carbon254.names` rules, answered with a 404 and suggestions."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from carbon254 import names
from carbon254.application.errors import ApiError, not_found
from carbon254.isos import Iso
from carbon254.schema import Dataset
from carbon254.store.base import Store


def _not_found(exc: names.UnknownName) -> ApiError:
    return not_found(exc.parameter, exc.message, exc.suggestions)


# Every request names an ISO and a market: match the usual spellings with a dict
# lookup, and leave `carbon254.names` (Arrow, suggestions) to the rest.
_ISO_BY_FOLDED = {i.value.casefold(): i for i in Iso}


def _fold_match(text: str, known: Sequence[str]) -> str | None:
    """`text` as spelled in `known`: exactly, else the one case-insensitive match; None otherwise."""
    if text in known:
        return text
    folded = text.casefold()
    found = [k for k in known if k.casefold() == folded]
    return found[0] if len(found) == 1 else None


def resolve_iso(text: str) -> Iso:
    """The ISO named by `text` (any case); 404 with close matches otherwise."""
    iso = _ISO_BY_FOLDED.get(text.strip().casefold())
    if iso is not None:
        return iso
    try:
        return names.resolve_iso(text, "iso")
    except names.UnknownName as exc:
        raise _not_found(exc) from None


def resolve_market(store: Store, dataset: Dataset, iso: Iso, text: str) -> str:
    """The stored market name for `text`; 404 listing the markets with data otherwise."""
    what = f"{iso.value} {dataset.value} market"
    known = store.markets(dataset, iso.value)
    found = _fold_match(text.strip(), known)
    if found is not None:
        return found
    try:
        return names.resolve_names("market", what, [text.strip()], known, suggest_all=True)[0]
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
