"""Forward curves: quotes in, arbitrage-free smooth monthly block curves and hourly curves out (no I/O)."""

from carbon254.curves.basis import BasisCurve, BasisError, estimate_basis, node_curve
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
    "CurveSet",
    "CurveShapeError",
    "DayType",
    "HistoryError",
    "HourlyCurve",
    "HourlyHistory",
    "MonthlyCurve",
    "PriorError",
    "Quote",
    "ShapeFactors",
    "base_blocks",
    "build_hpfc",
    "estimate_basis",
    "estimate_shape",
    "flat_shape",
    "hourly_history",
    "hpfc_table",
    "node_curve",
    "seasonal_prior",
]
