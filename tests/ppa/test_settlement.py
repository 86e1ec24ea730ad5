"""Hourly settlement checked by hand: every contract type, both sides, physical and virtual, each clause."""

from __future__ import annotations

import numpy as np
import pytest

from carbon254.ppa import PpaError, parse_contract, settle

from .hours import US_PER_HOUR, hours, us


def test_flat_price_and_flat_generation_fixed_price_by_hand() -> None:
    starts = hours("2024-05-01T00:00", 48)
    price, mwh = np.full(48, 50.0), np.full(48, 10.0)
    fixed = parse_contract({"type": "fixed", "strike": 45})
    # 48 hours x 10 MWh x (50 - 45) $/MWh = 2,400 $ to the buyer of the difference.
    assert settle(fixed, starts, price, mwh).total == 2400.0
    assert settle(fixed, starts, price, mwh, side="seller").total == -2400.0
    physical = parse_contract({"type": "fixed", "strike": 45, "settlement": "physical"})
    # Physical: the seller is paid 45 $/MWh for 480 MWh, the buyer pays it.
    assert settle(physical, starts, price, mwh, side="seller").total == 21600.0
    assert settle(physical, starts, price, mwh).total == -21600.0
    result = settle(fixed, starts, price, mwh)
    assert np.array_equal(result.mwh, mwh) and np.array_equal(result.contract_price, np.full(48, 45.0))


def test_collar_with_prices_entirely_inside_its_band_settles_nothing() -> None:
    starts = hours("2024-05-01T00:00", 6)
    price = np.array([21.0, 30.0, 45.5, 59.9, 60.0, 20.0])
    collar = parse_contract({"type": "collar", "floor": 20, "cap": 60})
    result = settle(collar, starts, price, np.full(6, 7.0))
    assert result.total == 0.0
    assert np.array_equal(result.contract_price, price)  # inside the band the contract floats with the market


def test_collar_with_prices_entirely_above_or_below_its_band_by_hand() -> None:
    starts = hours("2024-05-01T00:00", 3)
    collar = parse_contract({"type": "collar", "floor": 20, "cap": 60})
    mwh = np.array([1.0, 2.0, 3.0])
    # Above the cap the buyer receives (p - 60) per MWh: 1*(70-60) + 2*(80-60) + 3*(100-60) = 170.
    assert settle(collar, starts, np.array([70.0, 80.0, 100.0]), mwh).total == 170.0
    # Below the floor it pays (20 - p): -(1*(20-10) + 2*(20-0) + 3*(20+15)) = -155.
    assert settle(collar, starts, np.array([10.0, 0.0, -15.0]), mwh).total == -155.0
    assert settle(collar, starts, np.array([10.0, 0.0, -15.0]), mwh, side="seller").total == 155.0


def test_virtual_collar_matches_the_external_formula_hour_by_hour() -> None:
    rng = np.random.default_rng(4)
    starts = hours("2024-01-01T00:00", 500)
    price, mwh = rng.normal(40, 30, 500), rng.uniform(0, 100, 500)
    collar = parse_contract({"type": "collar", "floor": 25, "cap": 55})
    expected = [m * (max(p - 55, 0) - max(25 - p, 0)) for p, m in zip(price, mwh, strict=True)]
    assert settle(collar, starts, price, mwh).cash.tolist() == pytest.approx(expected, rel=1e-12, abs=1e-9)


def test_hub_plus_physical_revenue_is_index_value_plus_adder_times_volume() -> None:
    rng = np.random.default_rng(1)
    starts = hours("2024-07-01T00:00", 200)
    price, mwh = rng.normal(35, 20, 200), rng.uniform(0, 50, 200)
    physical = parse_contract({"type": "index_plus", "adder": 4.25, "settlement": "physical"})
    revenue = settle(physical, starts, price, mwh, side="seller").total
    index_value = sum(p * m for p, m in zip(price, mwh, strict=True))
    assert revenue == pytest.approx(index_value + 4.25 * mwh.sum(), rel=1e-12)
    virtual = parse_contract({"type": "index_plus", "adder": 4.25})
    # Virtual: the index legs cancel; the buyer pays the adder on every MWh.
    assert settle(virtual, starts, price, mwh).total == pytest.approx(-4.25 * mwh.sum(), rel=1e-12)


def test_floating_discount_by_hand_with_and_without_its_floor() -> None:
    starts = hours("2024-07-01T00:00", 3)
    price, mwh = np.array([50.0, 20.0, 100.0]), np.array([2.0, 2.0, 1.0])
    plain = parse_contract({"type": "floating_discount", "discount": 0.1, "settlement": "physical"})
    # Seller paid 90% of the index: 2*45 + 2*18 + 1*90 = 216.
    assert settle(plain, starts, price, mwh, side="seller").total == pytest.approx(216.0)
    floored = parse_contract(
        {"type": "floating_discount", "discount": 0.1, "floor": 30, "settlement": "physical"}
    )
    # The floor lifts the middle hour to 30: 2*45 + 2*30 + 1*90 = 240.
    assert settle(floored, starts, price, mwh, side="seller").total == pytest.approx(240.0)
    virtual = parse_contract({"type": "floating_discount", "discount": 0.1, "floor": 30})
    # Virtual buyer receives p - c: 2*5 + 2*(20-30) + 1*10 = 0.
    assert settle(virtual, starts, price, mwh).total == pytest.approx(0.0, abs=1e-12)


def test_put_call_parity_collar_is_long_put_short_call_and_a_zero_width_collar_is_fixed() -> None:
    rng = np.random.default_rng(7)
    starts = hours("2024-01-01T00:00", 1000)
    price, mwh = rng.normal(45, 25, 1000), rng.uniform(0, 80, 1000)
    floor, cap, strike = 30.0, 65.0, 48.0

    def put(k: float) -> float:
        return float(np.sum(mwh * np.maximum(k - price, 0)))

    def call(k: float) -> float:
        return float(np.sum(mwh * np.maximum(price - k, 0)))

    collar = parse_contract({"type": "collar", "floor": floor, "cap": cap})
    fixed = parse_contract({"type": "fixed", "strike": strike})
    seller_collar = settle(collar, starts, price, mwh, side="seller").total
    seller_fixed = settle(fixed, starts, price, mwh, side="seller").total
    # The generator's collar: a long put at the floor and a short call at the cap.
    assert seller_collar == pytest.approx(put(floor) - call(cap), rel=1e-12)
    # Parity: a fixed price is a long put and a short call at the strike.
    assert seller_fixed == pytest.approx(put(strike) - call(strike), rel=1e-12)
    # So collar = fixed + (the put spread it gives up) - (the call spread it keeps).
    spreads = -(put(strike) - put(floor)) + (call(strike) - call(cap))
    assert seller_collar == pytest.approx(seller_fixed + spreads, rel=1e-12)
    degenerate = parse_contract({"type": "collar", "floor": strike, "cap": strike})
    assert settle(degenerate, starts, price, mwh).total == pytest.approx(
        settle(fixed, starts, price, mwh).total, rel=1e-12
    )


def test_escalator_steps_on_contract_anniversaries_by_hand() -> None:
    contract = parse_contract({"type": "fixed", "strike": 40, "escalator": 0.1, "start": "2024-01-01"})
    starts = np.array(
        [us("2024-06-01T12:00"), us("2024-12-31T23:00"), us("2025-01-01T00:00"), us("2026-06-01T00:00")]
    )
    result = settle(contract, starts, np.full(4, 50.0), np.ones(4))
    # Year 1 at 40, the first anniversary lifts it to 44, the second to 48.4.
    assert result.contract_price.tolist() == pytest.approx([40.0, 40.0, 44.0, 48.4])
    assert result.total == pytest.approx(10 + 10 + 6 + 1.6)


def test_negative_price_curtailment_by_hand() -> None:
    starts = hours("2024-04-01T00:00", 4)
    price, mwh = np.array([-5.0, 10.0, -1.0, 20.0]), np.array([1.0, 2.0, 3.0, 4.0])
    settles = parse_contract({"type": "fixed", "strike": 5})
    curtails = parse_contract({"type": "fixed", "strike": 5, "negative_price": "curtail"})
    # Settling: 1*(-10) + 2*5 + 3*(-6) + 4*15 = 42. Curtailing drops the two negative hours: 10 + 60 = 70.
    assert settle(settles, starts, price, mwh).total == 42.0
    result = settle(curtails, starts, price, mwh)
    assert result.total == 70.0
    assert result.mwh.tolist() == [0.0, 2.0, 0.0, 4.0]
    assert settle(parse_contract({"type": "fixed", "strike": 5}), starts, np.zeros(4), mwh).total == -50.0


def test_rec_payment_by_hand_for_both_settlements_and_sides() -> None:
    starts = hours("2024-04-01T00:00", 2)
    price, mwh = np.array([30.0, 50.0]), np.array([10.0, 20.0])
    virtual = parse_contract({"type": "fixed", "strike": 40, "rec_price": 3})
    # Difference 10*(-10) + 20*10 = 100, less RECs 3 * 30 MWh = 90: 10 to the buyer.
    assert settle(virtual, starts, price, mwh).total == pytest.approx(10.0)
    assert settle(virtual, starts, price, mwh, side="seller").total == pytest.approx(-10.0)
    physical = parse_contract({"type": "fixed", "strike": 40, "rec_price": 3, "settlement": "physical"})
    # Seller paid (40 + 3) for 30 MWh.
    assert settle(physical, starts, price, mwh, side="seller").total == pytest.approx(1290.0)


def test_only_hours_inside_the_term_settle() -> None:
    starts = hours("2024-12-31T22:00", 4)  # 22:00, 23:00 of 2024-12-31; 00:00, 01:00 of 2025-01-01
    contract = parse_contract({"type": "fixed", "strike": 0, "start": "2025-01-01", "term_years": 1})
    result = settle(contract, starts, np.full(4, 10.0), np.ones(4))
    assert result.mwh.tolist() == [0.0, 0.0, 1.0, 1.0]
    assert result.total == 20.0
    one_year = parse_contract({"type": "fixed", "strike": 0, "start": "2024-01-01", "term_years": 1})
    late = np.array([us("2024-12-31T23:00"), us("2025-01-01T00:00")])
    assert settle(one_year, late, np.full(2, 10.0), np.ones(2)).mwh.tolist() == [1.0, 0.0]
    with pytest.raises(PpaError, match="start/term_years: no hour"):
        settle(
            parse_contract({"type": "fixed", "strike": 0, "start": "2030-01-01"}),
            starts,
            np.ones(4),
            np.ones(4),
        )


def test_baseload_and_shaped_volume_rules_by_hand() -> None:
    starts = hours("2024-01-01T00:00", 48)
    generation = np.where(np.arange(48) % 24 == 12, 24.0, 0.0)  # 24 MWh at noon on each day
    generation[36] = 48.0  # and a second day noon of 48
    price = np.arange(48, dtype=np.float64)
    baseload = parse_contract({"type": "fixed", "strike": 0, "volume": "baseload"})
    # Mean generation: (24 + 48) / 48 = 1.5 MWh every hour.
    assert settle(baseload, starts, price, generation).mwh.tolist() == [1.5] * 48
    shaped = parse_contract({"type": "fixed", "strike": 0, "volume": "shaped"})
    shape = settle(shaped, starts, price, generation).mwh
    # January at 12:00 UTC averages (24 + 48) / 2 = 36; every other hour of the day averages 0.
    assert shape[12] == 36.0 and shape[36] == 36.0 and shape.sum() == 72.0
    proxy = parse_contract({"type": "fixed", "strike": 0, "volume": "proxy"})
    assert np.array_equal(settle(proxy, starts, price, generation).mwh, generation)


@pytest.mark.parametrize(
    ("starts", "price", "mwh", "message"),
    [
        ([0, US_PER_HOUR], [1.0], [1.0, 1.0], "price: 1 values for 2 hour starts"),
        ([0, US_PER_HOUR], [1.0, float("nan")], [1.0, 1.0], "price: hour 1 is not a finite number"),
        ([0, US_PER_HOUR], [1.0, 1.0], [1.0, -2.0], "mwh: hour 1 is negative"),
        ([0, 5], [1.0, 1.0], [1.0, 1.0], "starts: position 1 (1970-01-01T00:00Z) is not on a whole hour"),
        (
            [US_PER_HOUR, 0],
            [1.0, 1.0],
            [1.0, 1.0],
            "starts: position 1 (1970-01-01T00:00Z) does not come after",
        ),
        ([], [], [], "starts: need a one-dimensional array of at least one hour start"),
        ([0.5, 1.5], [1.0, 1.0], [1.0, 1.0], "starts: expected int64 microseconds"),
    ],
)
def test_bad_hourly_inputs_are_refused_naming_what_is_wrong(
    starts: list[float], price: list[float], mwh: list[float], message: str
) -> None:
    with pytest.raises(PpaError) as error:
        settle(parse_contract({"type": "fixed", "strike": 1}), np.array(starts), price, mwh)
    assert message in str(error.value)


def test_side_must_be_buyer_or_seller() -> None:
    with pytest.raises(PpaError, match="side: 'lender' is not buyer or seller"):
        settle(parse_contract({"type": "fixed", "strike": 1}), [0], [1.0], [1.0], side="lender")  # type: ignore[arg-type]
