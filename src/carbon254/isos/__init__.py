"""The seven North American ISOs/RTOs, each declared once in its own package.

`carbon254.isos.<iso>` holds everything specific to one ISO: its declaration
(`DECLARATION`: name, market time zone, price bounds, day-ahead publication
time, request spacing), its settings, its connector and report parsers, its
replay site and its simulator model. Importing this package loads only the
declarations (plain data); each ISO's heavy parts are imported when first used
(`IsoDeclaration.reports()`, `.connector(settings)`, `.replay_routes(roots)`,
`.simulation()`).
"""

from __future__ import annotations

from carbon254.isos import caiso, ercot, isone, miso, nyiso, pjm, spp
from carbon254.isos.declaration import Iso, IsoDeclaration, IsoInfo, PriceBounds

DECLARATIONS: dict[Iso, IsoDeclaration] = {
    d.iso: d
    for d in (
        caiso.DECLARATION,
        ercot.DECLARATION,
        pjm.DECLARATION,
        miso.DECLARATION,
        spp.DECLARATION,
        nyiso.DECLARATION,
        isone.DECLARATION,
    )
}

ISOS: dict[Iso, IsoInfo] = {iso: d.info for iso, d in DECLARATIONS.items()}

# Capacity prices ($/MW-day), ORDC adders ($/MWh) and load (MW) share one range
# across ISOs.
CAPACITY_PRICE_BOUNDS = PriceBounds(-1_000, 5_000)
ORDC_ADDER_BOUNDS = PriceBounds(0, 25_000)
LOAD_MW_BOUNDS = PriceBounds(-10_000, 500_000)


def _lookup(iso: str) -> Iso:
    try:
        return Iso(iso.upper())
    except ValueError:
        valid = ", ".join(i.value for i in Iso)
        raise KeyError(f"unknown ISO {iso!r}; expected one of {valid}") from None


def iso_info(iso: str) -> IsoInfo:
    """Look up an ISO by its stored name (case-insensitive); raises KeyError with the valid names."""
    return ISOS[_lookup(iso)]


def declaration(iso: str) -> IsoDeclaration:
    """The declaration of an ISO by its stored name (case-insensitive); KeyError with the valid names."""
    return DECLARATIONS[_lookup(iso)]


__all__ = [
    "CAPACITY_PRICE_BOUNDS",
    "DECLARATIONS",
    "ISOS",
    "LOAD_MW_BOUNDS",
    "ORDC_ADDER_BOUNDS",
    "Iso",
    "IsoDeclaration",
    "IsoInfo",
    "PriceBounds",
    "declaration",
    "iso_info",
]
