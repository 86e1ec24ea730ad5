"""Sensitivity tables: each axis checked against valuing the changed contract or inputs directly."""

from __future__ import annotations

import numpy as np
import pytest

from carbon254.ppa import DiscountCurve, PpaError, VolumeUncertainty, parse_contract, sensitivity, value_ppa
from carbon254.scenarios import PathsStep

from .hours import US_PER_HOUR, years

DISCOUNT = DiscountCurve.flat(0.05)


def _market() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    starts = years(2026, 1)
    hour = (starts // US_PER_HOUR) % 24
    curve = 40 + 15 * np.cos(2 * np.pi * (hour - 22) / 24)
    solar = np.clip(np.sin(np.pi * (hour - 13) / 11), 0, None) * 50.0
    return starts, curve, solar


def test_strike_axis_is_linear_and_matches_direct_valuation() -> None:
    starts, curve, solar = _market()
    fixed = parse_contract({"type": "fixed", "strike": 30})
    table = sensitivity(fixed, starts, curve, solar, DISCOUNT, axis="strike", values=[20, 30, 40])
    assert table.columns == ["axis", "value", "npv", "settlement", "breakeven", "npv_p10", "npv_p90"]
    npv = table["npv"].to_list()
    direct = value_ppa(parse_contract({"type": "fixed", "strike": 40}), starts, curve, solar, DISCOUNT)
    assert npv[2] == pytest.approx(direct.npv, rel=1e-12)
    assert npv[0] - npv[1] == pytest.approx(npv[1] - npv[2], rel=1e-9)
    assert table["npv_p10"].null_count() == 3
    assert table["breakeven"].to_list() == pytest.approx([direct.breakeven] * 3)


def test_collar_bounds_basis_and_p_level_axes() -> None:
    starts, curve, solar = _market()
    collar = parse_contract({"type": "collar", "floor": 30, "cap": 50})
    caps = sensitivity(collar, starts, curve, solar, DISCOUNT, axis="cap", values=[40, 50, 60])
    # The buyer owns the call above the cap: a higher cap is worth less to it.
    assert caps["npv"].to_list() == sorted(caps["npv"].to_list(), reverse=True)
    floors = sensitivity(collar, starts, curve, solar, DISCOUNT, axis="floor", values=[35])
    narrow = parse_contract({"type": "collar", "floor": 35, "cap": 50})
    assert floors["npv"][0] == pytest.approx(value_ppa(narrow, starts, curve, solar, DISCOUNT).npv, rel=1e-12)
    basis = sensitivity(collar, starts, curve, solar, DISCOUNT, axis="basis", values=[-5.0])
    assert basis["npv"][0] == pytest.approx(
        value_ppa(collar, starts, curve - 5.0, solar, DISCOUNT).npv, rel=1e-12
    )
    uncertainty = VolumeUncertainty(0.06, 0.03)
    levels = sensitivity(
        collar,
        starts,
        curve,
        solar,
        DISCOUNT,
        axis="p_level",
        values=[0.5, 0.9],
        uncertainty=uncertainty,
        years=10,
    )
    p90 = value_ppa(collar, starts, curve, solar * uncertainty.p_level(0.9, 10), DISCOUNT).npv
    assert levels["npv"].to_list() == pytest.approx(
        [value_ppa(collar, starts, curve, solar, DISCOUNT).npv, p90]
    )


def test_volatility_axis_runs_monte_carlo_with_its_band() -> None:
    starts, curve, solar = _market()
    collar = parse_contract({"type": "collar", "floor": 30, "cap": 50})
    table = sensitivity(
        collar,
        starts,
        curve,
        solar,
        DISCOUNT,
        axis="volatility",
        values=[0.0, 5.0],
        model=PathsStep(n_paths=60),
    )
    calm, wild = table.row(0, named=True), table.row(1, named=True)
    assert calm["npv_p10"] == pytest.approx(calm["npv_p90"], rel=1e-6)
    assert calm["npv"] == pytest.approx(value_ppa(collar, starts, curve, solar, DISCOUNT).npv, rel=1e-6)
    assert wild["npv_p10"] < wild["npv"] < wild["npv_p90"]


@pytest.mark.parametrize(
    ("terms", "axis", "values", "message"),
    [
        (
            {"type": "collar", "floor": 30, "cap": 50},
            "strike",
            [40.0],
            "axis: strike does not apply to a collar",
        ),
        (
            {"type": "collar", "floor": 30, "cap": 50},
            "cap",
            [20.0],
            "values: cap = 20: cap: 20 \\$/MWh is below",
        ),
        ({"type": "fixed", "strike": 30}, "p_level", [0.9], "uncertainty: the p_level axis needs"),
        ({"type": "fixed", "strike": 30}, "gamma", [1.0], "axis: 'gamma' is not one of"),
        ({"type": "fixed", "strike": 30}, "strike", [], "values: need at least one value"),
    ],
)
def test_bad_axes_and_values_are_refused(
    terms: dict[str, object], axis: str, values: list[float], message: str
) -> None:
    starts, curve, solar = _market()
    with pytest.raises(PpaError, match=message):
        sensitivity(parse_contract(terms), starts, curve, solar, DISCOUNT, axis=axis, values=values)  # type: ignore[arg-type]
