"""PPA and battery positions made hourly by their engines, and read from position files."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from carbon254.ppa import parse_contract
from carbon254.risk import (
    BatteryPosition,
    ForwardPosition,
    Portfolio,
    PositionFileError,
    PpaPosition,
    RiskError,
    battery_hourly,
    engine_positions,
    parse_positions,
    ppa_hourly,
)
from carbon254.risk.engines import hour_of_day
from carbon254.timeseries.periods import Block

JULY = date(2026, 7, 1)
# $20 at night, $60 by day, $90 from 17:00 to 20:00 (hour beginning, market time).
DAY = np.array([20.0] * 7 + [60.0] * 10 + [90.0] * 4 + [20.0] * 3)


def _ppa(contract: dict[str, object], technology: str = "flat", side: str = "buyer") -> PpaPosition:
    return PpaPosition(
        "p", "Renewables", "ERCOT", "HB_NORTH", JULY, JULY, 50.0, parse_contract(contract), technology, side
    )


def test_a_flat_fixed_price_ppa_is_long_its_capacity_for_the_buyer_and_short_for_the_seller() -> None:
    buyer = ppa_hourly(_ppa({"type": "fixed", "strike": 45}), DAY)
    assert len(buyer.starts) == 31 * 24
    assert np.allclose(buyer.mw, 50.0)
    seller = ppa_hourly(_ppa({"type": "fixed", "strike": 45}, side="seller"), DAY)
    assert np.allclose(seller.mw, -50.0)
    # A virtual index-plus swaps the index both ways: no price risk left.
    assert np.allclose(ppa_hourly(_ppa({"type": "index_plus", "adder": 3}), DAY).mw, 0.0)


def test_a_collar_is_long_only_in_hours_priced_outside_its_band() -> None:
    hourly = ppa_hourly(_ppa({"type": "collar", "floor": 30, "cap": 80}), DAY)
    price = DAY[hour_of_day("ERCOT", hourly.starts)]
    outside = (price < 30) | (price > 80)
    assert outside.any() and (~outside).any()
    assert np.allclose(hourly.mw[outside], 50.0)
    assert np.allclose(hourly.mw[~outside], 0.0)


def test_a_solar_ppa_follows_the_sun() -> None:
    hourly = ppa_hourly(_ppa({"type": "fixed", "strike": 45}, technology="solar"), DAY)
    hour = hour_of_day("ERCOT", hourly.starts)
    assert np.allclose(hourly.mw[(hour < 5) | (hour > 21)], 0.0)
    assert hourly.mw[hour == 13].mean() > 0.4 * 50.0
    capacity_factor = hourly.mw.mean() / 50.0
    assert 0.15 < capacity_factor < 0.45


def test_a_battery_buys_the_cheap_hours_and_sells_the_dear_ones_every_day() -> None:
    position = BatteryPosition("b", "Storage", "ERCOT", "NODE_A", JULY, JULY, 10.0, 40.0)
    hourly = battery_hourly(position, DAY)
    hour = hour_of_day("ERCOT", hourly.starts)
    assert len(hourly.starts) == 31 * 24
    assert (hourly.mw[np.isin(hour, [17, 18, 19, 20])] > 0).all()
    assert (hourly.mw <= 10.0 + 1e-9).all() and (hourly.mw >= -10.0 - 1e-9).all()
    assert (hourly.mw[DAY[hour] == 20.0] <= 1e-9).all()
    # Every day the same schedule; what it sells is what it bought less the round-trip losses.
    first = hourly.mw[:24]
    sold, bought = first[first > 0].sum(), -first[first < 0].sum()
    assert sold == pytest.approx(0.92 * 0.92 * bought, rel=1e-6)
    assert sold == pytest.approx(40.0 * 0.92, rel=1e-6)


def test_engine_positions_replace_only_ppas_and_batteries() -> None:
    forward = ForwardPosition("f", "Power", "ERCOT", "HB_NORTH", Block.ONPEAK, JULY, JULY, 5.0)
    portfolio = Portfolio("p", (forward, _ppa({"type": "fixed", "strike": 45})))
    made = engine_positions(portfolio, {("ERCOT", "HB_NORTH"): DAY})
    assert made.positions[0] is forward
    assert made.positions[1].id == "p" and made.positions[1].amount_unit == "profile"
    with pytest.raises(RiskError, match="position p: no prices of ERCOT HB_NORTH"):
        engine_positions(portfolio, {})
    with pytest.raises(RiskError, match="24 finite hourly prices"):
        engine_positions(portfolio, {("ERCOT", "HB_NORTH"): DAY[:12]})


FILE = (
    "id,book,kind,iso,location,start,end,mw,contract,technology,side,energy_mwh\n"
    "ppa,Renewables,ppa,ERCOT,HB_NORTH,2026-07,2027-06,100,"
    '"{""type"": ""fixed"", ""strike"": 45}",solar,buyer,\n'
    "bess,Storage,battery,ERCOT,NODE_A,2026-07,2026-12,50,,,,200\n"
)


def test_position_files_hold_ppas_and_batteries() -> None:
    portfolio = parse_positions(FILE)
    ppa, bess = portfolio.positions
    assert isinstance(ppa, PpaPosition) and ppa.contract.type == "fixed" and ppa.capacity_mw == 100.0
    assert (ppa.technology, ppa.side, ppa.end) == ("solar", "buyer", date(2027, 6, 1))
    assert isinstance(bess, BatteryPosition) and (bess.power_mw, bess.energy_mwh) == (50.0, 200.0)


def test_bad_ppa_and_battery_lines_name_line_and_field() -> None:
    bad = (
        "id,book,kind,iso,location,start,end,mw,contract,technology,side,energy_mwh,block\n"
        'p1,R,ppa,ERCOT,HB_NORTH,2026-07,2026-12,100,"{""type"": ""fixed""}",wind,,,\n'
        "p2,R,ppa,ERCOT,HB_NORTH,2026-07,2026-12,-5,not json,,,,\n"
        "b1,S,battery,ERCOT,NODE_A,2026-07,2026-12,50,,,,,onpeak\n"
        'f1,P,forward,ERCOT,HB_NORTH,2026-07,2026-12,5,"{""type"": ""fixed"", ""strike"": 1}",,,,onpeak\n'
    )
    with pytest.raises(PositionFileError) as caught:
        parse_positions(bad)
    found = {(p.line, p.field) for p in caught.value.problems}
    assert found == {
        (2, "contract"),
        (2, "technology"),
        (3, "mw"),
        (3, "contract"),
        (4, "energy_mwh"),
        (4, "block"),
        (5, "contract"),
    }
    message = str(caught.value)
    assert "strike" in message and "not JSON" in message
