"""CAISO (California ISO): OASIS reports, Pacific market time.

Parts: `settings` (`CARBON254_CAISO_*`), `reports` (OASIS parsers and
downloads), `replay` (OASIS `SingleZip` imitation), `simulation` (the
simulator's CAISO).
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
        Iso.CAISO,
        "California ISO",
        "America/Los_Angeles",
        PriceBounds(-10_000, 20_000),
        PriceBounds(-1_000, 30_000),
        # Day-ahead results are usually posted by about 13:00 Pacific.
        time(13, 0),
    ),
    __name__,
    # OASIS answers callers faster than about one request per 5 s with an error payload.
    min_request_interval_s=5.0,
    forwards=ForwardMarket(
        hubs=("TH_SP15_GEN-APND", "TH_NP15_GEN-APND"), months_traded=15, seasonal_strips=()
    ),
    reserves=ReserveMarket(
        regions=("AS_CAISO_EXP", "AS_CAISO"),
        # CAISO's tariff asks regulation to be sustainable for 60 minutes day-ahead and spinning and
        # non-spinning reserve for 30 minutes (the real-time regulation requirement is shorter).
        services=(
            ReserveService("RU", "up", 1.0, REGULATION_DEPLOYMENT),
            ReserveService("RD", "down", 1.0, REGULATION_DEPLOYMENT),
            ReserveService("SR", "up", 0.5, CONTINGENCY_DEPLOYMENT),
            ReserveService("NR", "up", 0.5, CONTINGENCY_DEPLOYMENT),
        ),
    ),
)
