"""Positions to factor exposures: hours on the market clock, block and spot mapping, legs, shapes, as-of."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from carbon254.risk import (
    BasisPosition,
    EmptyPortfolio,
    ForwardPosition,
    HourlyPosition,
    LoadObligation,
    Portfolio,
    PositionError,
    RiskError,
    RiskFactor,
    UnknownFactor,
    exposures,
    parse_factor,
    portfolio_factors,
)
from carbon254.timeseries.periods import Block

JULY = date(2026, 7, 1)


def _july_days() -> tuple[int, int]:
    """(weekdays, weekend days) of July 2026; its NERC holiday, the 4th, is a Saturday (not moved)."""
    days = [JULY + timedelta(days=i) for i in range(31)]
    weekdays = sum(1 for d in days if d.weekday() < 5)
    return weekdays, 31 - weekdays


def _forward(block: Block, mw: float = 10.0, start: date = JULY, end: date = JULY) -> ForwardPosition:
    return ForwardPosition("f", "Power", "ERCOT", "HB_NORTH", block, start, end, mw, 50.0)


def _one(position: object, factors: list[RiskFactor], as_of: date | None = None) -> dict[str, float]:
    assert isinstance(position, ForwardPosition | BasisPosition | LoadObligation | HourlyPosition)
    found = exposures(Portfolio("p", (position,)), factors, as_of=as_of)
    return {row["factor"]: row["mwh"] for row in found.frame().to_dicts()}


def test_a_forward_holds_mw_times_its_block_hours_of_each_month() -> None:
    weekdays, weekend = _july_days()
    base = [
        RiskFactor("ERCOT", "HB_NORTH", b, JULY) for b in (Block.ONPEAK, Block.TWO_BY_16, Block.SEVEN_BY_8)
    ]
    assert _one(_forward(Block.ONPEAK), base) == {"ERCOT:HB_NORTH:onpeak:2026-07": 10.0 * 16 * weekdays}
    assert _one(_forward(Block.ATC), base) == {
        "ERCOT:HB_NORTH:onpeak:2026-07": 10.0 * 16 * weekdays,
        "ERCOT:HB_NORTH:2x16:2026-07": 10.0 * 16 * weekend,
        "ERCOT:HB_NORTH:7x8:2026-07": 10.0 * 8 * 31,
    }
    # The finest factor containing the hours: offpeak hours to an offpeak factor, all to atc.
    on_off = [RiskFactor("ERCOT", "HB_NORTH", b, JULY) for b in (Block.ONPEAK, Block.OFFPEAK)]
    assert _one(_forward(Block.ATC, -2.0), on_off) == {
        "ERCOT:HB_NORTH:onpeak:2026-07": -2.0 * 16 * weekdays,
        "ERCOT:HB_NORTH:offpeak:2026-07": -2.0 * (16 * weekend + 8 * 31),
    }
    assert _one(_forward(Block.OFFPEAK), [parse_factor("ERCOT:HB_NORTH:atc:2026-07")]) == {
        "ERCOT:HB_NORTH:atc:2026-07": 10.0 * (16 * weekend + 8 * 31)
    }


def test_dst_months_have_their_real_hours() -> None:
    atc = [RiskFactor("ERCOT", "HB_NORTH", Block.ATC, date(2026, m, 1)) for m in (3, 11)]
    found = _one(_forward(Block.ATC, 1.0, date(2026, 3, 1), date(2026, 3, 1)), atc)
    assert found == {"ERCOT:HB_NORTH:atc:2026-03": 31 * 24 - 1.0}
    found = _one(_forward(Block.ATC, 1.0, date(2026, 11, 1), date(2026, 11, 1)), atc)
    assert found == {"ERCOT:HB_NORTH:atc:2026-11": 30 * 24 + 1.0}


def test_months_without_a_factor_fall_back_to_spot_and_unknown_hubs_fail() -> None:
    factors = [RiskFactor("ERCOT", "HB_NORTH", Block.ATC, JULY), RiskFactor("ERCOT", "HB_NORTH", Block.ATC)]
    strip = _forward(Block.ATC, 1.0, JULY, date(2026, 8, 1))
    assert _one(strip, factors) == {"ERCOT:HB_NORTH:atc:2026-07": 744.0, "ERCOT:HB_NORTH:atc:spot": 744.0}
    with pytest.raises(UnknownFactor, match=r"position f: no risk factor for ERCOT HB_NORTH 2026-08"):
        _one(strip, factors[:1])
    west = ForwardPosition("w", "Power", "ERCOT", "HB_WEST", Block.ATC, JULY, JULY, 1.0)
    with pytest.raises(
        UnknownFactor, match=r"position w: no risk factor for ERCOT HB_WEST \(known: HB_NORTH\)"
    ):
        _one(west, factors)


def test_positions_not_named_monthly_map_straight_onto_spot() -> None:
    factors = [RiskFactor("ERCOT", "HB_NORTH", Block.ATC, JULY), RiskFactor("ERCOT", "HB_NORTH", Block.ATC)]
    forward = _forward(Block.ATC, 1.0)
    load = LoadObligation("l", "Retail", "ERCOT", "HB_NORTH", JULY, JULY, 744.0)
    found = exposures(Portfolio("p", (forward, load)), factors, monthly={"f"}).frame().to_dicts()
    assert {(r["id"], r["factor"]): r["mwh"] for r in found} == {
        ("f", "ERCOT:HB_NORTH:atc:2026-07"): 744.0,
        ("l", "ERCOT:HB_NORTH:atc:spot"): pytest.approx(-744.0),
    }
    # Without the restriction both take the month's factor.
    every = exposures(Portfolio("p", (forward, load)), factors).frame()
    assert set(every["factor"].to_list()) == {"ERCOT:HB_NORTH:atc:2026-07"}


def test_a_basis_position_is_long_the_node_and_short_the_hub() -> None:
    weekdays, _ = _july_days()
    position = BasisPosition("b", "Power", "ERCOT", "NODE_A", "HB_NORTH", Block.ONPEAK, JULY, JULY, 3.0)
    factors = [RiskFactor("ERCOT", loc, Block.ONPEAK, JULY) for loc in ("NODE_A", "HB_NORTH")]
    assert _one(position, factors) == {
        "ERCOT:NODE_A:onpeak:2026-07": 3.0 * 16 * weekdays,
        "ERCOT:HB_NORTH:onpeak:2026-07": -3.0 * 16 * weekdays,
    }


def test_a_load_obligation_is_short_its_volume_spread_by_its_shape() -> None:
    weekdays, weekend = _july_days()
    # Load only in hour-ending 7-22: onpeak on weekdays, 2x16 on weekends, never 7x8.
    shape = tuple(1.0 if 7 <= he <= 22 else 0.0 for he in range(1, 25))
    load = LoadObligation("l", "Load", "ERCOT", "LZ_HOUSTON", JULY, JULY, 3100.0, shape)
    base = [
        RiskFactor("ERCOT", "LZ_HOUSTON", b, JULY) for b in (Block.ONPEAK, Block.TWO_BY_16, Block.SEVEN_BY_8)
    ]
    found = _one(load, base)
    assert found == pytest.approx(
        {
            "ERCOT:LZ_HOUSTON:onpeak:2026-07": -3100.0 * weekdays / 31,
            "ERCOT:LZ_HOUSTON:2x16:2026-07": -3100.0 * weekend / 31,
        }
    )
    # From an as-of date on, only the rest of the period's share remains.
    rest = _one(load, base, as_of=date(2026, 7, 17))
    assert sum(rest.values()) == pytest.approx(-3100.0 * 15 / 31)


def test_an_hourly_profile_is_bucketed_on_the_market_clock() -> None:
    # 48 hours from midnight Central on Friday 2026-07-10 (05:00 UTC): Friday onpeak, Saturday 2x16.
    start = datetime(2026, 7, 10, 5, tzinfo=UTC)
    starts = np.array([int((start + timedelta(hours=h)).timestamp()) * 1_000_000 for h in range(48)])
    mw = np.full(48, 2.0)
    position = HourlyPosition("h", "PPA", "ERCOT", "HB_SOUTH", starts, mw)
    base = [
        RiskFactor("ERCOT", "HB_SOUTH", b, JULY) for b in (Block.ONPEAK, Block.TWO_BY_16, Block.SEVEN_BY_8)
    ]
    assert _one(position, base) == {
        "ERCOT:HB_SOUTH:onpeak:2026-07": 2.0 * 16,
        "ERCOT:HB_SOUTH:2x16:2026-07": 2.0 * 16,
        "ERCOT:HB_SOUTH:7x8:2026-07": 2.0 * 16,
    }
    assert _one(position, base, as_of=date(2026, 7, 11)) == {
        "ERCOT:HB_SOUTH:2x16:2026-07": 2.0 * 16,
        "ERCOT:HB_SOUTH:7x8:2026-07": 2.0 * 8,
    }


def test_as_of_drops_delivered_months() -> None:
    factors = [RiskFactor("ERCOT", "HB_NORTH", Block.ATC, date(2026, m, 1)) for m in (7, 8)]
    found = _one(_forward(Block.ATC, 1.0, JULY, date(2026, 8, 1)), factors, as_of=date(2026, 8, 1))
    assert found == {"ERCOT:HB_NORTH:atc:2026-08": 744.0}


def test_the_matrix_is_per_unit_amount_times_the_amounts() -> None:
    portfolio = Portfolio("p", (_forward(Block.ATC, 4.0),))
    found = exposures(portfolio, [RiskFactor("ERCOT", "HB_NORTH", Block.ATC, JULY)])
    assert found.unit.toarray().tolist() == [[744.0]] and found.mwh.toarray().tolist() == [[4 * 744.0]]
    assert found.amount_units == ("MW",) and found.total.tolist() == [4 * 744.0]


def test_the_factors_a_book_touches() -> None:
    portfolio = Portfolio(
        "p",
        (
            _forward(Block.ONPEAK, 1.0, JULY, date(2026, 8, 1)),
            BasisPosition("b", "Power", "ERCOT", "NODE_A", "HB_NORTH", Block.ATC, JULY, JULY, 1.0),
        ),
    )
    found = [f.label for f in portfolio_factors(portfolio, blocks=(Block.ONPEAK, Block.OFFPEAK))]
    assert found == [
        "ERCOT:HB_NORTH:onpeak:2026-07",
        "ERCOT:HB_NORTH:offpeak:2026-07",
        "ERCOT:HB_NORTH:onpeak:2026-08",
        "ERCOT:NODE_A:onpeak:2026-07",
        "ERCOT:NODE_A:offpeak:2026-07",
    ]
    with pytest.raises(RiskError, match="blocks"):
        portfolio_factors(portfolio, blocks=(Block.ONPEAK,))


def test_bad_positions_and_portfolios_name_the_field() -> None:
    with pytest.raises(EmptyPortfolio):
        Portfolio("empty", ())
    with pytest.raises(RiskError, match="appears twice"):
        Portfolio("p", (_forward(Block.ATC), _forward(Block.ATC)))
    cases = [
        ({"iso": "XX"}, "iso"),
        ({"hub": " "}, "hub"),
        ({"book": "Power//X"}, "book"),
        ({"start": date(2026, 7, 2)}, "start"),
        ({"end": date(2026, 6, 1)}, "end"),
        ({"mw": float("nan")}, "mw"),
    ]
    for change, field in cases:
        fields = {"id": "f", "book": "Power", "iso": "ERCOT", "hub": "HB_NORTH", "block": Block.ATC}
        fields |= {"start": JULY, "end": JULY, "mw": 1.0} | change
        with pytest.raises(PositionError) as caught:
            ForwardPosition(**fields)  # type: ignore[arg-type]
        assert caught.value.field == field
