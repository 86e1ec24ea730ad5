"""NYISO (New York ISO): MIS daily files and monthly archives, Eastern time.

Parts: `settings` (`CARBON254_NYISO_*`), `reports` (MIS parsers and
downloads), `replay` (MIS file imitation), `simulation` (the simulator's
NYISO).
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
        Iso.NYISO,
        "New York ISO",
        "America/New_York",
        PriceBounds(-10_000, 20_000),
        PriceBounds(-1_000, 30_000),
        # Day-ahead results are usually posted by about 11:00 Eastern.
        time(11, 0),
    ),
    __name__,
    # Static files: a courtesy spacing.
    min_request_interval_s=0.5,
    forwards=ForwardMarket(
        hubs=("N.Y.C.", "HUD VL"), months_traded=15, seasonal_strips=(("JanFeb", 1, 2), ("JulAug", 7, 2))
    ),
    reserves=ReserveMarket(
        # West is the base reserve region (East and SENY price at or above it).
        regions=("WEST",),
        # Regulation is one symmetric capacity product. NYISO asks energy storage to sustain its
        # reserve and regulation schedules for one hour; 1 hour each follows that.
        services=(
            ReserveService("REG", "both", 1.0, REGULATION_DEPLOYMENT, ("REG_CAP",)),
            ReserveService("SPIN10", "up", 1.0, CONTINGENCY_DEPLOYMENT, ("SPIN_10",)),
            ReserveService("NSPIN10", "up", 1.0, CONTINGENCY_DEPLOYMENT, ("NONSYNC_10",)),
            ReserveService("OR30", "up", 1.0, CONTINGENCY_DEPLOYMENT, ("OPER_30",)),
        ),
    ),
)
