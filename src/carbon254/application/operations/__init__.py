"""Every analytics operation the platform serves, one declaration each (`application.operation`).

Surfaces iterate `OPERATIONS`: a new operation is its domain package, one
module here declaring it, and one entry in this tuple. `BATTERY_OPTIMIZE`
and `PPA_VALUE` are declared like the others but answer documents richer
than rows (a summary, the stack, the dispatch series, a health projection;
a summary, the years, an NPV distribution, a risk waterfall), so their
surfaces are written by hand over `operations.battery.battery_result` and
`operations.ppa.ppa_result`.
"""

from __future__ import annotations

from typing import Any

from carbon254.application.operation import Operation
from carbon254.application.operations.battery import BATTERY_DISPATCH, BATTERY_OPTIMIZE, BATTERY_REVENUE
from carbon254.application.operations.curves import (
    CURVE,
    CURVE_DIFF,
    CURVE_HISTORY,
    CURVE_HPFC,
    CURVE_QUOTES,
    NODE_CURVE,
)
from carbon254.application.operations.forecast import FORECAST
from carbon254.application.operations.ppa import (
    PPA_BREAKEVEN,
    PPA_CASHFLOWS,
    PPA_NPV,
    PPA_SENSITIVITY,
    PPA_VALUE,
)
from carbon254.application.operations.risk import (
    RISK_ATTRIBUTION,
    RISK_BACKTEST,
    RISK_ES,
    RISK_STRESS,
    RISK_VAR,
)
from carbon254.application.operations.spreads import SPREADS

OPERATIONS: tuple[Operation[Any, Any], ...] = (
    SPREADS,
    CURVE,
    CURVE_HPFC,
    CURVE_DIFF,
    NODE_CURVE,
    CURVE_QUOTES,
    CURVE_HISTORY,
    BATTERY_REVENUE,
    BATTERY_DISPATCH,
    PPA_NPV,
    PPA_BREAKEVEN,
    PPA_CASHFLOWS,
    PPA_SENSITIVITY,
    RISK_VAR,
    RISK_ES,
    RISK_ATTRIBUTION,
    RISK_STRESS,
    RISK_BACKTEST,
    FORECAST,
)

__all__ = [
    "BATTERY_DISPATCH",
    "BATTERY_OPTIMIZE",
    "BATTERY_REVENUE",
    "CURVE",
    "CURVE_DIFF",
    "CURVE_HISTORY",
    "CURVE_HPFC",
    "CURVE_QUOTES",
    "FORECAST",
    "NODE_CURVE",
    "OPERATIONS",
    "PPA_BREAKEVEN",
    "PPA_CASHFLOWS",
    "PPA_NPV",
    "PPA_SENSITIVITY",
    "PPA_VALUE",
    "RISK_ATTRIBUTION",
    "RISK_BACKTEST",
    "RISK_ES",
    "RISK_STRESS",
    "RISK_VAR",
    "SPREADS",
]
