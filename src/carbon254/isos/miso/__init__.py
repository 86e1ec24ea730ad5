"""MISO (Midcontinent ISO): market-report files and real-time feeds, Eastern Standard Time all year.

Parts: `settings` (`CARBON254_MISO_*`), `reports` (market-report parsers and
downloads), `replay` (report and feed imitation), `simulation` (the
simulator's MISO, its planning resource auction included).
"""

from __future__ import annotations

from datetime import time

from carbon254.isos.declaration import ForwardMarket, Iso, IsoDeclaration, IsoInfo, PriceBounds

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
)
