"""ISO-NE (ISO New England): ISO Express files and Web Services, Eastern time.

Parts: `settings` (`CARBON254_ISONE_*`), `reports` (ISO Express and Web
Services parsers and downloads), `replay` (ISO Express and Web Services
imitation), `simulation` (the simulator's ISO-NE).
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
        Iso.ISONE,
        "ISO New England",
        "America/New_York",
        PriceBounds(-10_000, 20_000),
        PriceBounds(-1_000, 30_000),
        # Day-ahead results are usually posted by about 13:30 Eastern.
        time(13, 30),
    ),
    __name__,
    # Static files and a session cookie: a courtesy spacing.
    min_request_interval_s=1.0,
    forwards=ForwardMarket(hubs=(".H.INTERNAL_HUB",), months_traded=12, seasonal_strips=(("JanFeb", 1, 2),)),
    reserves=ReserveMarket(
        # Rest of System: the reserve zone without a local requirement.
        regions=("ROS",),
        # Regulation is one symmetric product. ISO-NE sets no storage duration for these; 1 hour each
        # is a modelling choice (ten- and thirty-minute reserves are called for well under an hour).
        services=(
            ReserveService("REG", "both", 1.0, REGULATION_DEPLOYMENT),
            ReserveService("TMSR", "up", 1.0, CONTINGENCY_DEPLOYMENT),
            ReserveService("TMNSR", "up", 1.0, CONTINGENCY_DEPLOYMENT),
            ReserveService("TMOR", "up", 1.0, CONTINGENCY_DEPLOYMENT),
        ),
    ),
)
