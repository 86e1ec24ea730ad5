"""Market risk of a power book: VaR and ES three ways, attribution, stress tests, VaR backtests (no I/O).

A `Portfolio` of positions (hub forwards, load obligations, basis, hourly
PPA/battery positions; `parse_positions` reads a CSV) maps onto risk
factors (`RiskFactor`: a hub's or node's block price for a delivery month,
or spot) as an `ExposureMatrix` of MWh (`exposures`). Factor history is
daily price changes in $/MWh (`FactorHistory`), supplied by the caller.
`historical_var`, `parametric_var` and `monte_carlo_var` return a
`RiskResult` (VaR and ES, positive $ losses); `attribute` breaks it down
by position and book node; `stress` revalues the book under factor shocks;
`exceedances`, `kupiec`, `christoffersen`, `basel_zone` and `backtest`
test VaR forecasts against realised P&L. Errors are `RiskError`s
(ValueErrors) naming the field, line, position or factor at fault.
"""

from carbon254.risk.attribution import Attribution, BookRisk, PositionRisk, attribute
from carbon254.risk.backtest import (
    BacktestResult,
    BaselZone,
    Christoffersen,
    Kupiec,
    backtest,
    basel_zone,
    christoffersen,
    exceedances,
    kupiec,
)
from carbon254.risk.covariance import CovarianceMethod, FactorCovariance, estimate_covariance
from carbon254.risk.curve_history import calendar_curve_history, history_from_curve_returns
from carbon254.risk.engines import battery_hourly, engine_positions, ppa_hourly
from carbon254.risk.errors import (
    CovarianceError,
    EmptyPortfolio,
    MissingHistory,
    PositionError,
    PositionFileError,
    PositionProblem,
    RiskError,
    UnknownFactor,
)
from carbon254.risk.exposure import ExposureMatrix, exposures, portfolio_factors
from carbon254.risk.factors import FactorHistory, RiskFactor, parse_block, parse_factor
from carbon254.risk.historical import historical_var
from carbon254.risk.montecarlo import Copula, Marginals, monte_carlo_var
from carbon254.risk.parametric import parametric_var
from carbon254.risk.position_file import parse_positions
from carbon254.risk.positions import (
    BasisPosition,
    BatteryPosition,
    ForwardPosition,
    HourlyPosition,
    LoadObligation,
    Portfolio,
    Position,
    PpaPosition,
    position_from_schedule,
)
from carbon254.risk.result import RiskMethod, RiskResult
from carbon254.risk.rolling import rolling_var
from carbon254.risk.stress import (
    FactorShocks,
    ShockRule,
    StressResult,
    historical_shocks,
    shocks_from_curves,
    shocks_from_rules,
    stress,
)
from carbon254.risk.tail import VarEs, var_es

__all__ = [
    "Attribution",
    "BacktestResult",
    "BaselZone",
    "BasisPosition",
    "BatteryPosition",
    "BookRisk",
    "Christoffersen",
    "Copula",
    "CovarianceError",
    "CovarianceMethod",
    "EmptyPortfolio",
    "ExposureMatrix",
    "FactorCovariance",
    "FactorHistory",
    "FactorShocks",
    "ForwardPosition",
    "HourlyPosition",
    "Kupiec",
    "LoadObligation",
    "Marginals",
    "MissingHistory",
    "Portfolio",
    "Position",
    "PositionError",
    "PositionFileError",
    "PositionProblem",
    "PositionRisk",
    "PpaPosition",
    "RiskError",
    "RiskFactor",
    "RiskMethod",
    "RiskResult",
    "ShockRule",
    "StressResult",
    "UnknownFactor",
    "VarEs",
    "attribute",
    "backtest",
    "basel_zone",
    "battery_hourly",
    "calendar_curve_history",
    "christoffersen",
    "engine_positions",
    "estimate_covariance",
    "exceedances",
    "exposures",
    "historical_shocks",
    "historical_var",
    "history_from_curve_returns",
    "kupiec",
    "monte_carlo_var",
    "parametric_var",
    "parse_block",
    "parse_factor",
    "parse_positions",
    "portfolio_factors",
    "position_from_schedule",
    "ppa_hourly",
    "rolling_var",
    "shocks_from_curves",
    "shocks_from_rules",
    "stress",
    "var_es",
]
