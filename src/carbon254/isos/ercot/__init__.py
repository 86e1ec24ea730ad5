"""ERCOT (Electric Reliability Council of Texas): MIS reports or the public API, Central time.

Parts: `settings` (`CARBON254_ERCOT_*`), `reports` (the EMIL reports read and
their download sources; parsers in `parsers`, `fastpath`, `frames`, `lines`;
MIS and API downloads in `connector` and `api`), `replay` (MIS and public API
imitation), `simulation` (the simulator's ERCOT, ORDC adders included).
"""

from __future__ import annotations

from datetime import time

from carbon254.isos.declaration import (
    CONTINGENCY_DEPLOYMENT,
    REGULATION_DEPLOYMENT,
    ForwardMarket,
    Iso,
    IsoDeclaration,
    IsoInfo,
    PriceBounds,
    ReserveMarket,
    ReserveService,
)

DECLARATION = IsoDeclaration(
    IsoInfo(
        Iso.ERCOT,
        "Electric Reliability Council of Texas",
        "America/Chicago",
        PriceBounds(-10_000, 25_000),
        PriceBounds(-1_000, 30_000),
        # Day-ahead results are usually posted by about 13:30 Central.
        time(13, 30),
    ),
    __name__,
    # ERCOT's public API allows about 30 requests a minute.
    min_request_interval_s=2.0,
    forwards=ForwardMarket(
        hubs=("HB_NORTH", "HB_HOUSTON", "HB_WEST"), months_traded=18, seasonal_strips=(("JulAug", 7, 2),)
    ),
    reserves=ReserveMarket(
        regions=("ERCOT",),
        # NPRR 1186 asks an energy storage resource to hold the state of charge that sustains each
        # award: Regulation Up and Down, RRS and ECRS for 1 hour, Non-Spin for 4 hours.
        services=(
            ReserveService("REGUP", "up", 1.0, REGULATION_DEPLOYMENT),
            ReserveService("REGDN", "down", 1.0, REGULATION_DEPLOYMENT),
            ReserveService("RRS", "up", 1.0, CONTINGENCY_DEPLOYMENT),
            ReserveService("ECRS", "up", 1.0, CONTINGENCY_DEPLOYMENT),
            ReserveService("NSPIN", "up", 4.0, CONTINGENCY_DEPLOYMENT),
        ),
    ),
)
