"""Forward curves: quotes in, arbitrage-free smooth monthly block curves and hourly curves out (no I/O)."""

from carbon254.curves.basis import BasisCurve, BasisError, estimate_basis, node_curve
from carbon254.curves.contracts import contract_from_dates, parse_contract
from carbon254.curves.errors import (
    ContractLabelError,
    ContradictoryQuotes,
    QuoteFileError,
    QuoteProblem,
    UndeterminedBlock,
)
from carbon254.curves.extend import extend_curve
from carbon254.curves.fit import CurveFit, SeasonalPrior, fit_monthly_curve
from carbon254.curves.hours import DayHours, daily_block_hours, day_hours
from carbon254.curves.hpfc import CurveShapeError, base_blocks, build_hpfc, hpfc_table
from carbon254.curves.model import (
    Contract,
    ContractKind,
    CurveSet,
    HourlyCurve,
    MonthlyCurve,
    Quote,
)
from carbon254.curves.prior import PriorError, seasonal_prior
from carbon254.curves.quotes import quotes_from_records, read_quotes_csv, write_quotes_csv
from carbon254.curves.reconcile import ImpliedQuote
from carbon254.curves.returns import CurveReturns, curve_returns
from carbon254.curves.shape import (
    DayType,
    HistoryError,
    HourlyHistory,
    ShapeFactors,
    estimate_shape,
    flat_shape,
    hourly_history,
)

__all__ = [
    "BasisCurve",
    "BasisError",
    "Contract",
    "ContractKind",
    "ContractLabelError",
    "ContradictoryQuotes",
    "CurveFit",
    "CurveReturns",
    "CurveSet",
    "CurveShapeError",
    "DayHours",
    "DayType",
    "HistoryError",
    "HourlyCurve",
    "HourlyHistory",
    "ImpliedQuote",
    "MonthlyCurve",
    "PriorError",
    "Quote",
    "QuoteFileError",
    "QuoteProblem",
    "SeasonalPrior",
    "ShapeFactors",
    "UndeterminedBlock",
    "base_blocks",
    "build_hpfc",
    "contract_from_dates",
    "curve_returns",
    "daily_block_hours",
    "day_hours",
    "estimate_basis",
    "estimate_shape",
    "extend_curve",
    "fit_monthly_curve",
    "flat_shape",
    "hourly_history",
    "hpfc_table",
    "node_curve",
    "parse_contract",
    "quotes_from_records",
    "read_quotes_csv",
    "seasonal_prior",
    "write_quotes_csv",
]
