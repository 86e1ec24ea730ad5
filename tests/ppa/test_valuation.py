"""Valuation: discounting by hand, NPV == settlement at rate 0, breakeven gives NPV 0, capture, tables."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest

from carbon254.ppa import DiscountCurve, PpaError, breakeven_price, parse_contract, value_ppa

from .hours import hours, years


def _year(seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    starts = years(2025, 2)
    hour = (starts // 3_600_000_000) % 24
    solar = np.clip(np.sin(np.pi * (hour - 12) / 12), 0, None) * 100 * rng.uniform(0.3, 1.0, len(starts))
    price = 35 + 15 * np.cos(2 * np.pi * hour / 24) + rng.normal(0, 12, len(starts))
    return starts, price, solar


def test_zero_rate_npv_equals_settlement_exactly_and_tables_add_up() -> None:
    starts, price, mwh = _year()
    collar = parse_contract({"type": "collar", "floor": 25, "cap": 50})
    result = value_ppa(collar, starts, price, mwh, DiscountCurve.flat(0.0))
    assert result.npv == result.settlement
    expected = sum(m * (max(p - 50, 0) - max(25 - p, 0)) for p, m in zip(price, mwh, strict=True))
    assert result.settlement == pytest.approx(expected, rel=1e-12)
    assert result.monthly.height == 24 and result.annual.height == 2
    assert result.monthly.schema["period_start"] == pl.Datetime("us", "UTC")
    assert result.monthly["period_start"][0] == datetime(2025, 1, 1, tzinfo=UTC)
    assert result.annual["period_start"].to_list() == [
        datetime(2025, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),
    ]
    assert result.monthly["settlement"].sum() == pytest.approx(result.settlement, rel=1e-12)
    assert result.annual["volume_mwh"].sum() == pytest.approx(mwh.sum(), rel=1e-12)
    first_year = starts < hours("2026-01-01T00:00", 1)[0]
    assert result.annual["settlement"][0] == pytest.approx(
        sum(
            m * (max(p - 50, 0) - max(25 - p, 0))
            for p, m in zip(price[first_year], mwh[first_year], strict=True)
        ),
        rel=1e-12,
    )


def test_monthly_cash_is_discounted_from_the_month_end_by_hand() -> None:
    # 1 MWh at 10 $/MWh over strike in each of the first hour of January and of February.
    starts = np.concatenate((hours("2025-01-01T00:00", 1), hours("2025-02-01T00:00", 1)))
    fixed = parse_contract({"type": "fixed", "strike": 0})
    result = value_ppa(fixed, starts, np.array([10.0, 10.0]), np.ones(2), DiscountCurve.flat(0.07))
    # January's cash is paid on 1 February (31 days on), February's on 1 March (59 days on).
    expected = 10 * 1.07 ** (-31 / 365.25) + 10 * 1.07 ** (-59 / 365.25)
    assert result.npv == pytest.approx(expected, rel=1e-12)
    assert result.settlement == 20.0
    later = value_ppa(
        fixed,
        starts,
        np.array([10.0, 10.0]),
        np.ones(2),
        DiscountCurve.flat(0.07),
        valuation_start=datetime(2024, 1, 1),
    )
    assert later.npv == pytest.approx(
        10 * 1.07 ** (-(366 + 31) / 365.25) + 10 * 1.07 ** (-(366 + 59) / 365.25)
    )


def test_discount_curve_interpolates_zero_rates_linearly_and_holds_them_flat_outside() -> None:
    curve = DiscountCurve.from_points([(2.0, 0.06), (1.0, 0.05), (10.0, 0.07)])
    assert curve.rate([0.5, 1.5, 6.0, 30.0]).tolist() == pytest.approx([0.05, 0.055, 0.065, 0.07])
    assert curve.factor([1.5]).tolist() == pytest.approx([1.055**-1.5])
    assert curve.factor([-1.0]).tolist() == [1.0]
    starts = hours("2025-01-01T00:00", 24 * 40)
    factors = curve.factors(starts, 0 + starts[0])
    assert factors[0] == factors[24 * 31 - 1] == pytest.approx(1.05 ** (-31 / 365.25))
    assert factors[24 * 31] == pytest.approx(1.05 ** (-59 / 365.25))
    for bad, message in (
        ([], "discount: need at least one"),
        ([(1.0, 0.05), (1.0, 0.06)], "discount tenors: must be strictly increasing"),
        ([(1.0, -1.5)], "discount rates: every rate must be finite and above -1"),
        ([(-1.0, 0.05)], "discount tenors: every tenor must be a finite number of years >= 0"),
    ):
        with pytest.raises(PpaError, match=message):
            DiscountCurve.from_points(bad)


def test_breakeven_strike_gives_npv_zero_even_with_escalator_recs_and_curtailment() -> None:
    starts, price, mwh = _year(8)
    discount = DiscountCurve.from_points([(0.0, 0.04), (3.0, 0.08)])
    plain = parse_contract({"type": "fixed", "strike": 40})
    result = value_ppa(plain, starts, price, mwh, discount)
    assert result.breakeven == pytest.approx(breakeven_price(starts, price, mwh, discount), rel=1e-12)
    at_breakeven = parse_contract({"type": "fixed", "strike": result.breakeven})
    gross = float(np.sum(np.abs(price) * mwh))
    assert abs(value_ppa(at_breakeven, starts, price, mwh, discount).npv) < 1e-9 * gross
    terms = {"escalator": 0.03, "rec_price": 4.0, "negative_price": "curtail", "start": "2025-01-01"}
    dressed = value_ppa(
        parse_contract({"type": "collar", "floor": 20, "cap": 60, **terms}), starts, price, mwh, discount
    )
    fair = parse_contract({"type": "fixed", "strike": dressed.breakeven, **terms})
    assert abs(value_ppa(fair, starts, price, mwh, discount).npv) < 1e-9 * gross
    # The fixed-price equivalent of the collar is worth what the collar is worth.
    twin = parse_contract({"type": "fixed", "strike": dressed.fixed_equivalent, **terms})
    assert value_ppa(twin, starts, price, mwh, discount).npv == pytest.approx(dressed.npv, rel=1e-9)
    assert value_ppa(plain, starts, price, mwh, discount).fixed_equivalent == pytest.approx(40.0)


def test_capture_price_rate_and_annual_settlement_by_hand() -> None:
    starts = hours("2025-06-01T00:00", 4)
    price, mwh = np.array([10.0, 50.0, 30.0, 30.0]), np.array([0.0, 2.0, 1.0, 1.0])
    result = value_ppa(
        parse_contract({"type": "fixed", "strike": 30}), starts, price, mwh, DiscountCurve.flat(0.0)
    )
    assert result.capture_price == pytest.approx((100 + 30 + 30) / 4)  # 40
    assert result.baseload_price == pytest.approx(30.0)
    assert result.capture_rate == pytest.approx(40 / 30)
    assert result.volume_mwh == 4.0 and result.generation_mwh == 4.0
    assert result.settlement == 40.0
    assert result.annual_settlement == pytest.approx(40.0 * 8760 / 4)


def test_physical_contract_npv_is_its_cash_and_mark_to_market_its_value_against_the_market() -> None:
    starts, price, mwh = _year(5)
    discount = DiscountCurve.flat(0.05)
    physical = parse_contract({"type": "fixed", "strike": 38, "settlement": "physical"})
    virtual = parse_contract({"type": "fixed", "strike": 38})
    seller = value_ppa(physical, starts, price, mwh, discount, side="seller")
    buyer_virtual = value_ppa(virtual, starts, price, mwh, discount)
    assert seller.settlement == pytest.approx(38 * mwh.sum(), rel=1e-12)
    assert seller.mark_to_market == pytest.approx(-buyer_virtual.npv, rel=1e-9)
    assert value_ppa(physical, starts, price, mwh, discount).mark_to_market == pytest.approx(
        buyer_virtual.npv, rel=1e-9
    )
    assert buyer_virtual.mark_to_market == pytest.approx(buyer_virtual.npv, rel=1e-9)
