"""What the platform serves and name lookups against it: `carbon254.names` rules, 404s with suggestions.

Which datasets and markets an ISO has is declared once: what its connector
downloads and parses (`markets.registry.published_markets`), what the
simulator makes of it for the demo (`simulate.simulated_markets`), and
anything already stored (a canonical file may bring more). REST, GraphQL,
the stream and the CLI all ask `served_markets`/`check_published`, so a
market one surface accepts is accepted by all, and a dataset an ISO does not
publish is a 404 saying so rather than an empty answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import pyarrow as pa

from carbon254 import names
from carbon254.application.errors import ApiError, not_found
from carbon254.isos import Iso
from carbon254.markets.registry import published_markets
from carbon254.schema import Dataset
from carbon254.simulate import simulated_markets
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


@cache
def declared_markets(iso: Iso) -> dict[Dataset, tuple[str, ...]]:
    """Each dataset `iso` has on this platform, with its markets (empty for a dataset without markets).

    The union of what the ISO's connector publishes and what the simulator
    makes for it, in a fixed order: datasets as `Dataset` lists them,
    markets sorted.
    """
    found: dict[Dataset, set[str]] = {}
    for source in (published_markets(iso), simulated_markets(iso)):
        for dataset, markets in source.items():
            found.setdefault(dataset, set()).update(m for m in markets if m is not None)
    return {d: tuple(sorted(found[d])) for d in Dataset if d in found}


def served_markets(store: Store, dataset: Dataset, iso: Iso) -> list[str]:
    """The markets (auctions, load kinds) of `dataset` for `iso`: declared ones and any stored."""
    return sorted(set(declared_markets(iso).get(dataset, ())) | set(store.markets(dataset, iso.value)))


def check_published(store: Store, dataset: Dataset, iso: Iso) -> None:
    """A 404 saying so when `iso` has no `dataset` on this platform (declared nor stored)."""
    if dataset in declared_markets(iso) or store.markets(dataset, iso.value):
        return
    others = [i.value for i in Iso if dataset in declared_markets(i)]
    has = ", ".join(d.value for d in declared_markets(iso))
    raise ApiError(
        404,
        "not_published",
        f"{iso.value} publishes no {dataset.value}; {iso.value} has {has}; "
        f"{dataset.value} is published by {', '.join(others) or 'no ISO'}",
        "iso",
        others,
    )


def resolve_market(store: Store, dataset: Dataset, iso: Iso, text: str) -> str:
    """The market name for `text` as the platform spells it; 404 listing the served markets otherwise."""
    what = f"{iso.value} {dataset.value} market"
    known = served_markets(store, dataset, iso)
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
