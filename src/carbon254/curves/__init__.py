"""Forward curves: quotes in, arbitrage-free smooth monthly block curves and hourly curves out (no I/O)."""

from carbon254.curves.model import (
    Contract,
    ContractKind,
    CurveSet,
    HourlyCurve,
    MonthlyCurve,
    Quote,
)

__all__ = ["Contract", "ContractKind", "CurveSet", "HourlyCurve", "MonthlyCurve", "Quote"]
