"""SPP (Southwest Power Pool): Marketplace file browser, Central time.

Parts: `settings` (`CARBON254_SPP_*`), `reports` (Marketplace parsers and
downloads), `replay` (file-browser imitation), `simulation` (the simulator's
SPP).
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
        Iso.SPP,
        "Southwest Power Pool",
        "America/Chicago",
        PriceBounds(-10_000, 20_000),
        PriceBounds(-1_000, 30_000),
        # Day-ahead results are usually posted by about 14:00 Central.
        time(14, 0),
    ),
    __name__,
    # Static files, many of them per day (one per 5-minute interval): a short courtesy spacing.
    min_request_interval_s=0.2,
    forwards=ForwardMarket(
        hubs=("SPPSOUTH_HUB", "SPPNORTH_HUB"), months_traded=12, seasonal_strips=(("JulAug", 7, 2),)
    ),
    reserves=ReserveMarket(
        regions=("SPP",),
        # The Marketplace files name the products RegUP and RegDN day-ahead (RegUPService and
        # RegDNService in real time), Spin and Supp. SPP sets no storage duration for these; 1 hour
        # each is a modelling choice (regulation as ERCOT asks, reserves covering their deployment).
        services=(
            ReserveService("REGUP", "up", 1.0, REGULATION_DEPLOYMENT, ("RegUP", "RegUPService")),
            ReserveService("REGDN", "down", 1.0, REGULATION_DEPLOYMENT, ("RegDN", "RegDNService")),
            ReserveService("SPIN", "up", 1.0, CONTINGENCY_DEPLOYMENT, ("Spin",)),
            ReserveService("SUPP", "up", 1.0, CONTINGENCY_DEPLOYMENT, ("Supp",)),
        ),
    ),
)
