"""MISO (Midcontinent ISO): market-report files and real-time feeds, Eastern Standard Time all year.

Parts: `settings` (`CARBON254_MISO_*`), `reports` (market-report parsers and
downloads), `replay` (report and feed imitation), `simulation` (the
simulator's MISO, its planning resource auction included).
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
        Iso.MISO,
        "Midcontinent ISO",
        "Etc/GMT+5",
        PriceBounds(-10_000, 20_000),
        PriceBounds(-1_000, 30_000),
        # Day-ahead results are usually posted by about 14:00 EST.
        time(14, 0),
    ),
    __name__,
    # Static files: a courtesy spacing.
    min_request_interval_s=0.5,
    forwards=ForwardMarket(
        hubs=("INDIANA.HUB", "ILLINOIS.HUB"), months_traded=15, seasonal_strips=(("JulAug", 7, 2),)
    ),
    reserves=ReserveMarket(
        # The ASM files name the system "MISO Wide" and the products GENREGMCP, GENSPINMCP, GENSUPPMCP.
        regions=("MISO", "MISO Wide"),
        # Regulating reserve is one symmetric product. MISO sets no storage duration for these; 1 hour
        # each is a modelling choice (regulation as ERCOT and CAISO day-ahead ask, reserves covering
        # a 30-minute deployment twice over).
        services=(
            ReserveService("REG", "both", 1.0, REGULATION_DEPLOYMENT, ("GENREGMCP",)),
            ReserveService("SPIN", "up", 1.0, CONTINGENCY_DEPLOYMENT, ("GENSPINMCP",)),
            ReserveService("SUPP", "up", 1.0, CONTINGENCY_DEPLOYMENT, ("GENSUPPMCP",)),
            ReserveService("STR", "up", 1.0, CONTINGENCY_DEPLOYMENT),
        ),
    ),
)
