"""What a VaR run returns: the figures, how they were made, and the model that made them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from carbon254.risk.errors import RiskError
from carbon254.risk.factors import RiskFactor
from carbon254.risk.model import Model

Floats = npt.NDArray[np.float64]


class RiskMethod(StrEnum):
    """How the P&L distribution is obtained."""

    HISTORICAL = "historical"
    PARAMETRIC = "parametric"
    MONTE_CARLO = "monte_carlo"


def check_horizon(horizon: int) -> int:
    """`horizon` (days) as a positive int; RiskError naming the field otherwise."""
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise RiskError(f"horizon: must be a whole number of days >= 1 (1 to 10 is usual), got {horizon!r}")
    return int(horizon)


@dataclass(frozen=True, slots=True, eq=False)
class RiskResult:
    """VaR and ES ($, positive losses) of a book at `confidence` over `horizon` days, by `method`.

    `mean` and `std` summarise the P&L distribution ($). Simulation methods
    keep the book's P&L per scenario in `pnl` (historical: one per h-day
    window, oldest first, ending on `scenario_dates`; Monte Carlo: one per
    path) and `var_dates` names the historical day(s) the VaR scenario is
    made of; parametric leaves both empty. `factors` are the factors the
    book is exposed to, `exposure` its MWh on each, `var_gradient` and
    `es_gradient` the $ of VaR and ES per MWh of each (what attribution
    multiplies exposures by). `model` is the loss model itself, and
    `settings` says in words how it was built (window, weights, covariance).
    """

    method: RiskMethod
    confidence: float
    horizon: int
    var: float
    es: float
    mean: float
    std: float
    scenarios: int
    pnl: Floats
    scenario_dates: tuple[date, ...]
    var_dates: tuple[date, ...]
    factors: tuple[RiskFactor, ...]
    exposure: Floats
    var_gradient: Floats
    es_gradient: Floats
    model: Model
    settings: str
