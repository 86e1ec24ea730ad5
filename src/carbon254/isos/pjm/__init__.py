"""PJM Interconnection: Data Miner 2 feeds and RPM auction results, Eastern time.

Parts: `settings` (`CARBON254_PJM_*`), `reports` (Data Miner parsers and
downloads, BRA results), `replay` (Data Miner and BRA file imitation),
`simulation` (the simulator's PJM, its RPM base residual auction included).
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
        Iso.PJM,
        "PJM Interconnection",
        "America/New_York",
        PriceBounds(-10_000, 20_000),
        PriceBounds(-1_000, 30_000),
        # Day-ahead results are usually posted by about 13:30 Eastern.
        time(13, 30),
    ),
    __name__,
    # PJM caps non-member API accounts at 6 requests a minute.
    min_request_interval_s=10.0,
    forwards=ForwardMarket(
        hubs=("WESTERN HUB", "AEP-DAYTON HUB"),
        months_traded=18,
        seasonal_strips=(("JanFeb", 1, 2), ("JulAug", 7, 2)),
    ),
    reserves=ReserveMarket(
        # Data Miner names the RTO locale PJM_RTO and the services REG, SR (synchronized), PR
        # (primary: synchronized and non-synchronized, what a non-synchronized MW is paid) and 30MIN.
        regions=("RTO", "PJM_RTO"),
        # PJM's manuals set no storage duration for these; 1 hour each is a modelling choice: it
        # covers the 30-minute longest synchronized reserve event and a 30-minute reserve's call.
        services=(
            ReserveService("REG", "both", 1.0, REGULATION_DEPLOYMENT),
            ReserveService("SYNC_RESERVE", "up", 1.0, CONTINGENCY_DEPLOYMENT, ("SR",)),
            ReserveService("NON_SYNC_RESERVE", "up", 1.0, CONTINGENCY_DEPLOYMENT, ("PR",)),
            ReserveService("SECONDARY_RESERVE", "up", 1.0, CONTINGENCY_DEPLOYMENT, ("30MIN",)),
        ),
    ),
)
