"""CAISO (California ISO): OASIS reports, Pacific market time.

Parts: `settings` (`CARBON254_CAISO_*`), `reports` (OASIS parsers and
downloads), `replay` (OASIS `SingleZip` imitation), `simulation` (the
simulator's CAISO).
"""

from __future__ import annotations

from datetime import time

from carbon254.isos.declaration import ForwardMarket, Iso, IsoDeclaration, IsoInfo, PriceBounds

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
)
