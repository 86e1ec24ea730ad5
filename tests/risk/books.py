"""Small books and factor histories for the risk tests, with exposures easy to compute by hand.

The book is marked on spot factors (one per location, atc), so a forward's
exposure is simply MW x the hours of its delivery months.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from carbon254.risk import (
    BasisPosition,
    FactorHistory,
    ForwardPosition,
    LoadObligation,
    Portfolio,
    RiskFactor,
)
from carbon254.timeseries.periods import Block

Floats = npt.NDArray[np.float64]

NORTH = RiskFactor("ERCOT", "HB_NORTH", Block.ATC)
HOUSTON = RiskFactor("ERCOT", "HB_HOUSTON", Block.ATC)
NODE = RiskFactor("ERCOT", "NODE_A", Block.ATC)
WESTERN = RiskFactor("PJM", "WESTERN HUB", Block.ATC)
FACTORS = (NORTH, HOUSTON, NODE, WESTERN)
# Daily changes ($/MWh)²: hubs strongly correlated, the node close to its hub, PJM apart.
COVARIANCE = np.array(
    [
        [16.0, 12.0, 15.0, 4.0],
        [12.0, 25.0, 11.0, 5.0],
        [15.0, 11.0, 18.0, 3.0],
        [4.0, 5.0, 3.0, 9.0],
    ]
)
# Hours of the delivery months used below (ERCOT and PJM clocks; March has the spring-forward day).
JULY_2026_HOURS = 744
MARCH_2026_HOURS = 743


def book() -> Portfolio:
    """Four positions in three books: two ERCOT forwards, a basis position, a PJM forward."""
    return Portfolio(
        "test",
        (
            ForwardPosition(
                "north",
                "Power/ERCOT",
                "ERCOT",
                "HB_NORTH",
                Block.ATC,
                date(2026, 7, 1),
                date(2026, 7, 1),
                10.0,
                60.0,
            ),
            ForwardPosition(
                "houston",
                "Power/ERCOT",
                "ERCOT",
                "HB_HOUSTON",
                Block.ATC,
                date(2026, 7, 1),
                date(2026, 7, 1),
                -6.0,
                62.0,
            ),
            BasisPosition(
                "basis",
                "Power/ERCOT/Basis",
                "ERCOT",
                "NODE_A",
                "HB_NORTH",
                Block.ATC,
                date(2026, 7, 1),
                date(2026, 7, 1),
                4.0,
            ),
            ForwardPosition(
                "pjm",
                "Power/PJM",
                "PJM",
                "WESTERN HUB",
                Block.ATC,
                date(2026, 3, 1),
                date(2026, 3, 1),
                5.0,
                45.0,
            ),
        ),
    )


def book_exposure() -> Floats:
    """The book's exposure (MWh) to FACTORS, by hand: MW x hours of the delivery month."""
    return np.array(
        [
            10.0 * JULY_2026_HOURS - 4.0 * JULY_2026_HOURS,
            -6.0 * JULY_2026_HOURS,
            4.0 * JULY_2026_HOURS,
            5.0 * MARCH_2026_HOURS,
        ]
    )


def normal_history(days: int, seed: int = 7, covariance: Floats = COVARIANCE) -> FactorHistory:
    """`days` daily changes of FACTORS drawn from a zero-mean normal with `covariance`."""
    rng = np.random.default_rng(seed)
    changes = rng.multivariate_normal(np.zeros(len(FACTORS)), covariance, size=days)
    return FactorHistory(FACTORS, dates(days), changes)


def dates(days: int, first: date = date(2024, 1, 2)) -> tuple[date, ...]:
    """Consecutive days from `first`."""
    return tuple(first + timedelta(days=i) for i in range(days))


def book_with_load() -> Portfolio:
    """The book plus a load obligation at HB_HOUSTON (July 2026, 3,720 MWh served)."""
    load = LoadObligation(
        "load", "Power/ERCOT/Load", "ERCOT", "HB_HOUSTON", date(2026, 7, 1), date(2026, 7, 1), 3720.0
    )
    return Portfolio("test", (*book().positions, load))
