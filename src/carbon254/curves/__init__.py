"""Forward curves: quotes in, arbitrage-free smooth monthly block curves and hourly curves out (no I/O)."""

from carbon254.curves.contracts import contract_from_dates, parse_contract
from carbon254.curves.errors import (
    ContractLabelError,
    ContradictoryQuotes,
    QuoteFileError,
    QuoteProblem,
    UndeterminedBlock,
)
from carbon254.curves.fit import CurveFit, SeasonalPrior, fit_monthly_curve
from carbon254.curves.hours import DayHours, daily_block_hours, day_hours
from carbon254.curves.model import (
    Contract,
    ContractKind,
    CurveSet,
    HourlyCurve,
    MonthlyCurve,
    Quote,
)
from carbon254.curves.quotes import quotes_from_records, read_quotes_csv
from carbon254.curves.reconcile import ImpliedQuote
from carbon254.curves.returns import CurveReturns, curve_returns

__all__ = [
    "Contract",
    "ContractKind",
    "ContractLabelError",
    "ContradictoryQuotes",
    "CurveFit",
    "CurveReturns",
    "CurveSet",
    "DayHours",
    "HourlyCurve",
    "ImpliedQuote",
    "MonthlyCurve",
    "Quote",
    "QuoteFileError",
    "QuoteProblem",
    "SeasonalPrior",
    "UndeterminedBlock",
    "contract_from_dates",
    "curve_returns",
    "daily_block_hours",
    "day_hours",
    "fit_monthly_curve",
    "parse_contract",
    "quotes_from_records",
    "read_quotes_csv",
]
