"""Risk decomposition: a waterfall that sums to the contract value, and the four risk distributions."""

from __future__ import annotations

import numpy as np
import pytest

from carbon254.ppa import DiscountCurve, parse_contract, risk_decomposition, value_ppa, waterfall
from carbon254.scenarios import PathsStep

from .hours import US_PER_HOUR, hours, years

DISCOUNT = DiscountCurve.flat(0.06)


def _market() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    starts = years(2026, 1)
    hour = (starts // US_PER_HOUR) % 24
    curve = 35 + 20 * np.cos(2 * np.pi * (hour - 22) / 24)
    curve[(hour == 19) & (np.arange(len(starts)) % (24 * 5) < 24)] = -6.0
    solar = np.clip(np.sin(np.pi * (hour - 13) / 11), 0, None) * 100.0
    return starts, curve, solar


def test_waterfall_steps_sum_to_the_contract_value() -> None:
    starts, curve, solar = _market()
    contract = parse_contract(
        {
            "type": "collar",
            "floor": 20,
            "cap": 45,
            "negative_price": "curtail",
            "rec_price": 3,
            "escalator": 0.02,
        }
    )
    basis = np.where((starts // US_PER_HOUR) % 24 == 20, -8.0, -1.5)
    for side in ("buyer", "seller"):
        steps = waterfall(contract, starts, curve, solar, DISCOUNT, basis=basis, settle_at="node", side=side)
        value = value_ppa(contract, starts, curve + basis, solar, DISCOUNT, side=side).npv
        assert [s.label for s in steps] == [
            "baseload value",
            "shape",
            "basis",
            "negative-price curtailment",
            "RECs",
        ]
        assert sum(s.delta for s in steps) == pytest.approx(value, rel=1e-12)
        assert steps[-1].cumulative == pytest.approx(value, rel=1e-12)
        # Every monthly baseload price lies inside the band, where a collar settles nothing.
        assert steps[0].delta == 0.0
        assert all(s.delta != 0 for s in steps[1:])
        running = np.cumsum([s.delta for s in steps])
        np.testing.assert_allclose([s.cumulative for s in steps], running, rtol=1e-12)


def test_waterfall_steps_by_hand_on_a_two_hour_month() -> None:
    starts = hours("2026-03-01T00:00", 2)
    price, mwh = np.array([10.0, 50.0]), np.array([0.0, 4.0])
    contract = parse_contract({"type": "fixed", "strike": 20, "rec_price": 1})
    steps = waterfall(contract, starts, price, mwh, DiscountCurve.flat(0.0))
    # Baseload: 4 MWh spread flat at the mean price 30: 4 x (30 - 20) = 40. Shape: all of it at 50,
    # 4 x 30 = 120, so +80. Settled at the hub: no basis; no curtailment clause; RECs: -1 x 4.
    assert [s.delta for s in steps] == pytest.approx([40.0, 80.0, 0.0, 0.0, -4.0])
    assert steps[-1].cumulative == pytest.approx(116.0)


def test_risk_components_collapse_to_the_deterministic_steps_without_uncertainty() -> None:
    starts, curve, solar = _market()
    fixed = parse_contract({"type": "fixed", "strike": 30})
    risk = risk_decomposition(
        fixed,
        starts,
        curve,
        solar,
        DISCOUNT,
        model=PathsStep(n_paths=6, sigma=0.0),
        basis=-2.0,
        settle_at="node",
    )
    steps = {s.label: s.delta for s in risk.waterfall}
    scale = abs(risk.contract_npv)
    assert risk.contract_npv == pytest.approx(
        value_ppa(fixed, starts, curve - 2.0, solar, DISCOUNT).npv, rel=1e-12
    )
    np.testing.assert_allclose(risk.price.values, 0.0, atol=1e-6 * scale)
    np.testing.assert_allclose(risk.volume.values, 0.0, atol=1e-6 * scale)
    np.testing.assert_allclose(risk.shape.values, steps["shape"], rtol=1e-5)
    np.testing.assert_allclose(risk.basis.values, steps["basis"], rtol=1e-5)
    assert [c.name for c in risk.components] == ["shape", "basis", "volume", "price"]


def test_each_source_moves_only_its_own_distribution() -> None:
    starts, curve, solar = _market()
    fixed = parse_contract({"type": "fixed", "strike": 30})
    risk = risk_decomposition(
        fixed,
        starts,
        curve,
        solar,
        DISCOUNT,
        model=PathsStep(n_paths=150, sigma=4.0),
        volume_sd=0.07,
        basis=-2.0,
        basis_sd=1.5,
        settle_at="node",
        seed=9,
    )
    deterministic = risk.contract_npv
    # Volume: NPV scales with the year's energy factor, sd 7% of the contract value.
    assert risk.volume.sd == pytest.approx(0.07 * abs(deterministic), rel=0.2)
    assert risk.price.sd > 0 and risk.basis.sd > 0 and risk.shape.sd > 0
    # A fixed price is linear in price: its price risk averages out to nothing.
    assert abs(risk.price.mean) < 4 * risk.price.sd / np.sqrt(150)
    # Basis noise is N(0, 1.5) a month on a month's energy; its mean is the deterministic basis step.
    monthly_mwh = float(solar.sum()) / 12
    assert risk.basis.sd == pytest.approx(1.5 * monthly_mwh * np.sqrt(12), rel=0.25)
    basis_step = next(s.delta for s in risk.waterfall if s.label == "basis")
    assert abs(risk.basis.mean - basis_step) < 4 * risk.basis.sd / np.sqrt(150)
    assert risk.price.percentiles.p5 < risk.price.percentiles.p95
