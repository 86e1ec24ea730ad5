"""NYISO (New York ISO): MIS daily files and monthly archives, Eastern time.

Parts: `settings` (`CARBON254_NYISO_*`), `reports` (MIS parsers and
downloads), `replay` (MIS file imitation), `simulation` (the simulator's
NYISO).
"""

from __future__ import annotations

from datetime import time

from carbon254.isos.declaration import ForwardMarket, Iso, IsoDeclaration, IsoInfo, PriceBounds

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
)
