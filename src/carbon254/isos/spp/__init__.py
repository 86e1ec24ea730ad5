"""SPP (Southwest Power Pool): Marketplace file browser, Central time.

Parts: `settings` (`CARBON254_SPP_*`), `reports` (Marketplace parsers and
downloads), `replay` (file-browser imitation), `simulation` (the simulator's
SPP).
"""

from __future__ import annotations

from datetime import time

from carbon254.isos.declaration import ForwardMarket, Iso, IsoDeclaration, IsoInfo, PriceBounds

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
)
