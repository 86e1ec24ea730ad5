"""Stress tests: rules, a historical event, a scenario's curves; P&L per position, book node and factor."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from carbon254.curves.model import CurveSet, MonthlyCurve
from carbon254.risk import (
    FactorHistory,
    MissingHistory,
    RiskError,
    RiskFactor,
    ShockRule,
    UnknownFactor,
    exposures,
    historical_shocks,
    shocks_from_curves,
    shocks_from_rules,
    stress,
)
from carbon254.risk.stress import FactorShocks
from carbon254.scenarios import Scenario, ShiftStep, apply_scenario
from carbon254.timeseries.periods import Block

from .books import (
    FACTORS,
    HOUSTON,
    JULY_2026_HOURS,
    MARCH_2026_HOURS,
    NODE,
    NORTH,
    WESTERN,
    book,
    book_exposure,
    dates,
)

JULY = date(2026, 7, 1)


def test_pnl_is_exposure_times_move_per_position_and_book() -> None:
    moves = np.array([10.0, -5.0, 2.0, 3.0])  # NORTH, HOUSTON, NODE, WESTERN
    result = stress(book(), FactorShocks("test", FACTORS, moves))
    by_position = dict(zip(result.ids, result.position_pnl.tolist(), strict=True))
    assert by_position == pytest.approx(
        {
            "north": 10.0 * JULY_2026_HOURS * 10.0,
            "houston": -6.0 * JULY_2026_HOURS * -5.0,
            "basis": 4.0 * JULY_2026_HOURS * (2.0 - 10.0),
            "pjm": 5.0 * MARCH_2026_HOURS * 3.0,
        }
    )
    assert result.pnl == pytest.approx(sum(by_position.values()))
    assert result.pnl == pytest.approx(float(book_exposure() @ moves))
    by_book = dict(zip(result.book_nodes, result.book_pnl.tolist(), strict=True))
    assert by_book[""] == pytest.approx(result.pnl)
    assert by_book["Power/ERCOT"] == pytest.approx(
        by_position["north"] + by_position["houston"] + by_position["basis"]
    )
    assert by_book["Power/ERCOT/Basis"] == pytest.approx(by_position["basis"])
    assert by_book["Power/PJM"] == pytest.approx(by_position["pjm"])
    assert result.factor_pnl.sum() == pytest.approx(result.pnl)
    assert result.positions_frame().height == 4 and result.books_frame().height == 5


def test_rules_select_by_location_block_and_months_and_add_up() -> None:
    factors = [
        RiskFactor("ERCOT", "HB_NORTH", Block.ONPEAK, JULY),
        RiskFactor("ERCOT", "HB_NORTH", Block.TWO_BY_16, JULY),
        RiskFactor("ERCOT", "HB_NORTH", Block.SEVEN_BY_8, JULY),
        RiskFactor("ERCOT", "HB_NORTH", Block.ONPEAK, date(2026, 8, 1)),
        RiskFactor("ERCOT", "HB_NORTH", Block.ATC),
    ]
    rules = [
        ShockRule("ERCOT", "HB_NORTH", Block.ATC, change=1.0),  # every factor, spot included
        ShockRule("ercot", "HB_NORTH", Block.OFFPEAK, JULY, JULY, change=10.0),  # 2x16 and 7x8 of July
        ShockRule("ERCOT", "HB_NORTH", Block.ONPEAK, date(2026, 8, 1), percent=50.0),
    ]
    levels = np.array([80.0, 40.0, 30.0, 90.0, 50.0])
    shocks = shocks_from_rules("mixed", factors, rules, levels)
    assert shocks.moves.tolist() == [1.0, 11.0, 11.0, 1.0 + 45.0, 1.0]
    with pytest.raises(RiskError, match="price levels"):
        shocks_from_rules("no levels", factors, rules)
    with pytest.raises(UnknownFactor, match="HB_WEST"):
        shocks_from_rules("typo", factors, [ShockRule("ERCOT", "HB_WEST", change=1.0)])
    with pytest.raises(RiskError, match="exactly one"):
        ShockRule("ERCOT", "HB_NORTH", change=1.0, percent=2.0)


def test_a_historical_event_sums_its_daily_changes() -> None:
    changes = np.arange(40, dtype=np.float64).reshape(10, 4)
    history = FactorHistory(FACTORS, dates(10, date(2021, 2, 10)), changes)
    shocks = historical_shocks("Uri", history, date(2021, 2, 13), date(2021, 2, 16))
    assert shocks.moves.tolist() == changes[3:7].sum(axis=0).tolist()
    result = stress(exposures(book(), FACTORS), shocks)
    assert result.pnl == pytest.approx(float(book_exposure() @ changes[3:7].sum(axis=0)))
    with pytest.raises(MissingHistory, match="no change"):
        historical_shocks("later", history, date(2022, 1, 1), date(2022, 1, 5))


def _curve(hub: str) -> MonthlyCurve:
    months = (JULY, date(2026, 8, 1))
    prices = np.array([[80.0, 40.0], [90.0, 45.0]])
    hours = np.array([[352, 392], [336, 408]], dtype=np.int64)
    return MonthlyCurve(
        "ERCOT", hub, date(2026, 6, 15), months, (Block.ONPEAK, Block.OFFPEAK), prices, hours, JULY
    )


def test_a_scenario_of_the_scenario_engine_becomes_factor_shocks() -> None:
    base = CurveSet(monthly={"HB_NORTH": _curve("HB_NORTH")})
    scenario = Scenario(
        name="heat",
        steps=[
            ShiftStep(absolute=5.0, blocks=[Block.ONPEAK]),
            ShiftStep(percent=10.0, start="2026-08"),
        ],
    )
    shocked = apply_scenario(scenario, base).curves
    factors = [
        RiskFactor("ERCOT", "HB_NORTH", Block.ONPEAK, JULY),
        RiskFactor("ERCOT", "HB_NORTH", Block.OFFPEAK, date(2026, 8, 1)),
        RiskFactor("ERCOT", "HB_NORTH", Block.ATC, JULY),
        RiskFactor("ERCOT", "HB_NORTH", Block.ONPEAK),
    ]
    shocks = shocks_from_curves("heat", base, shocked, factors)
    # July onpeak +5; August offpeak +10%; July atc: hour-weighted (352 x 5 + 392 x 0) / 744; spot = July.
    assert shocks.moves.tolist() == pytest.approx([5.0, 4.5, 352 * 5.0 / 744, 5.0])
    missing = [RiskFactor("ERCOT", "HB_WEST", Block.ATC, JULY)]
    with pytest.raises(UnknownFactor, match="HB_WEST"):
        shocks_from_curves("heat", base, shocked, missing)
    with pytest.raises(UnknownFactor, match="2026-09"):
        shocks_from_curves(
            "heat", base, shocked, [RiskFactor("ERCOT", "HB_NORTH", Block.ONPEAK, date(2026, 9, 1))]
        )


def test_a_factor_without_a_move_is_an_error() -> None:
    shocks = FactorShocks("partial", (NORTH, HOUSTON, NODE), np.zeros(3))
    with pytest.raises(UnknownFactor):
        stress(book(), shocks)
    with pytest.raises(UnknownFactor, match="WESTERN HUB"):
        stress(exposures(book(), (*FACTORS[:3], WESTERN)), shocks)
