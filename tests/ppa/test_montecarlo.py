"""Monte Carlo: zero volatility gives the deterministic value, reproducible paths, volume and basis risk."""

from __future__ import annotations

import numpy as np
import pytest

from carbon254.ppa import (
    DiscountCurve,
    PpaError,
    VolumeUncertainty,
    parse_contract,
    simulate_ppa,
    value_paths,
    value_ppa,
)
from carbon254.ppa.hourly import MonthGrid
from carbon254.ppa.price_paths import PathModel, path_generator, row_generators
from carbon254.scenarios import PathsStep, PricePaths

from .hours import US_PER_HOUR, years

DISCOUNT = DiscountCurve.flat(0.07)


def _market(count: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    starts = years(2026, count)
    hour = (starts // US_PER_HOUR) % 24
    day = np.arange(len(starts)) / 24
    curve = 38 + 14 * np.cos(2 * np.pi * (hour - 21) / 24) + 6 * np.cos(2 * np.pi * day / 365.25)
    curve[(hour == 19) & (day % 7 < 1)] = -4.0  # a few negative midday hours
    solar = np.clip(np.sin(np.pi * (hour - 13) / 11), 0, None) * 80.0
    return starts, curve, solar


@pytest.mark.parametrize(
    "terms",
    [
        {"type": "collar", "floor": 25, "cap": 50},
        {"type": "fixed", "strike": 36, "negative_price": "curtail", "rec_price": 2, "escalator": 0.02},
        {"type": "index_plus", "adder": 3, "settlement": "physical"},
    ],
)
def test_zero_volatility_paths_are_the_curve_so_the_mean_is_the_deterministic_value(
    terms: dict[str, object],
) -> None:
    starts, curve, solar = _market(2)
    contract = parse_contract(terms)
    run = simulate_ppa(
        contract, starts, curve, solar, DISCOUNT, model=PathsStep(n_paths=7, sigma=0.0), seed=3
    )
    expected = value_ppa(contract, starts, curve, solar, DISCOUNT).npv
    assert run.deterministic.npv == expected
    # The paths are float32: a relative difference near 1e-7 per hour, not more.
    np.testing.assert_allclose(run.npv, expected, rtol=1e-6)
    assert run.mean == pytest.approx(expected, rel=1e-6)
    assert run.percentiles.p5 == pytest.approx(run.percentiles.p95, rel=1e-6)


def test_mean_of_a_linear_contract_converges_to_the_deterministic_value_with_volatility() -> None:
    starts, curve, solar = _market(1)
    fixed = parse_contract({"type": "fixed", "strike": 35})
    model = PathsStep(n_paths=400, kappa=0.5, sigma=4.0, jump_intensity=10, jump_mean=0.3, jump_sd=0.3)
    run = simulate_ppa(fixed, starts, curve, solar, DISCOUNT, model=model, seed=11)
    error = run.npv.std() / np.sqrt(run.n_paths)
    assert run.npv.std() > 1e4  # the paths really move
    assert abs(run.mean - run.deterministic.npv) < 4 * error
    # A collar's buyer is short the floor's put and long the cap's call: volatility changes its value.
    collar = parse_contract({"type": "collar", "floor": 30, "cap": 45})
    spread = simulate_ppa(collar, starts, curve, solar, DISCOUNT, model=model, seed=11)
    assert spread.percentiles.p5 < spread.percentiles.p50 < spread.percentiles.p95


def test_kernel_paths_have_the_curve_as_their_mean_like_the_scenario_engine() -> None:
    starts, curve, _ = _market(1)
    step = PathsStep(n_paths=1, kappa=0.5, sigma=4.0, jump_intensity=20, jump_mean=0.5, jump_sd=0.4)
    month = MonthGrid.of(starts).month_of_hour
    kernel = PathModel.of(step, curve[: 24 * 31], month[: 24 * 31])
    paths = kernel.draw([path_generator(5, p) for p in range(3000)]).astype(np.float64)
    positive = curve[: 24 * 31] > 0
    ratio = paths[:, positive].mean(axis=0) / curve[: 24 * 31][positive]
    assert np.max(np.abs(ratio - 1)) < 0.03
    assert abs(paths.mean() / curve[: 24 * 31].mean() - 1) < 0.01
    np.testing.assert_allclose(paths[:, ~positive].mean(axis=0), -4.0, atol=1.5)


def test_same_seed_same_paths_whatever_the_threads_and_chunks() -> None:
    starts, curve, solar = _market(1)
    collar = parse_contract({"type": "collar", "floor": 30, "cap": 45})
    model = PathsStep(n_paths=30, jump_intensity=5, jump_mean=0.2, jump_sd=0.2)
    kwargs = {"model": model, "seed": 4, "volume_sd": 0.05, "basis_sd": 1.0, "settle_at": "node"}
    one = simulate_ppa(collar, starts, curve, solar, DISCOUNT, threads=1, chunk_paths=30, **kwargs)  # type: ignore[arg-type]
    two = simulate_ppa(collar, starts, curve, solar, DISCOUNT, threads=2, chunk_paths=7, **kwargs)  # type: ignore[arg-type]
    assert one.npv.tobytes() == two.npv.tobytes()
    other = simulate_ppa(collar, starts, curve, solar, DISCOUNT, model=model, seed=5)
    assert not np.array_equal(one.npv, other.npv)


def test_progress_is_reported_up_to_every_path() -> None:
    starts, curve, solar = _market(1)
    seen: list[tuple[int, int]] = []
    simulate_ppa(
        parse_contract({"type": "fixed", "strike": 30}),
        starts,
        curve,
        solar,
        DISCOUNT,
        model=PathsStep(n_paths=25),
        chunk_paths=10,
        on_progress=lambda done, total: seen.append((done, total)),
    )
    assert [total for _, total in seen] == [25, 25, 25]
    assert sorted(done for done, _ in seen) == [d for d, _ in seen] and seen[-1][0] == 25


def test_volume_uncertainty_scales_energy_and_follows_the_price_correlation() -> None:
    starts, curve, solar = _market(1)
    fixed = parse_contract({"type": "fixed", "strike": 30})
    calm = PathsStep(n_paths=400, sigma=0.0)
    run = simulate_ppa(fixed, starts, curve, solar, DISCOUNT, model=calm, volume_sd=0.08, seed=2)
    ratio = run.volume_mwh / solar.sum()
    assert ratio.mean() == pytest.approx(1.0, abs=0.015) and ratio.std() == pytest.approx(0.08, rel=0.15)
    # On the curve the NPV is linear in the year's volume: NPV = factor x deterministic NPV.
    np.testing.assert_allclose(run.npv, ratio * run.deterministic.npv, rtol=1e-5)
    moving = PathsStep(n_paths=400, sigma=4.0, kappa=0.1)
    correlated = simulate_ppa(
        fixed,
        starts,
        curve,
        solar,
        DISCOUNT,
        model=moving,
        volume_sd=0.08,
        price_volume_correlation=-0.8,
        seed=2,
    )
    assert np.corrcoef(correlated.baseload_price, correlated.volume_mwh)[0, 1] < -0.6
    life = VolumeUncertainty(interannual_sd=0.0, long_term_sd=0.05)
    two_years = _market(2)
    lasting = simulate_ppa(fixed, *two_years, DISCOUNT, model=calm, volume_sd=life, seed=2)
    per_year = lasting.annual["volume_mwh"]
    assert per_year.len() == 2 and lasting.volume_mwh.std() > 0


def test_node_settlement_adds_the_basis_and_its_monthly_noise() -> None:
    starts, curve, solar = _market(1)
    fixed = parse_contract({"type": "fixed", "strike": 30})
    calm = PathsStep(n_paths=300, sigma=0.0)
    node = simulate_ppa(fixed, starts, curve, solar, DISCOUNT, model=calm, basis=-3.0, settle_at="node")
    assert node.deterministic.npv == value_ppa(fixed, starts, curve - 3.0, solar, DISCOUNT).npv
    np.testing.assert_allclose(node.npv, node.deterministic.npv, rtol=1e-6)
    noisy = simulate_ppa(
        fixed, starts, curve, solar, DISCOUNT, model=calm, basis=-3.0, basis_sd=2.0, settle_at="node", seed=8
    )
    # Monthly noise N(0, 2 $/MWh) on ~ 14 MWh/h x 730 h a month: about 2 x 10,000 $ per month, 12 months.
    monthly_mwh = float(solar.sum()) / 12
    assert noisy.npv.std() == pytest.approx(2.0 * monthly_mwh * np.sqrt(12), rel=0.2)
    assert abs(noisy.mean - node.deterministic.npv) < 4 * noisy.npv.std() / np.sqrt(300)
    at_hub = simulate_ppa(fixed, starts, curve, solar, DISCOUNT, model=calm, basis=-3.0, basis_sd=2.0)
    np.testing.assert_allclose(at_hub.npv, value_ppa(fixed, starts, curve, solar, DISCOUNT).npv, rtol=1e-6)


def test_scenario_price_paths_are_valued_path_by_path() -> None:
    starts, curve, solar = _market(1)
    rng = np.random.default_rng(3)
    values = curve[None, :] * rng.lognormal(0.0, 0.2, (5, len(curve)))
    paths = PricePaths("ERCOT", "HB_WEST", starts, values)
    collar = parse_contract({"type": "collar", "floor": 30, "cap": 45})
    run = value_paths(collar, paths, solar, DISCOUNT, chunk_paths=2)
    expected = [value_ppa(collar, starts, row, solar, DISCOUNT).npv for row in values]
    np.testing.assert_allclose(run.npv, expected, rtol=1e-5)
    assert run.deterministic.npv == value_ppa(collar, starts, values.mean(axis=0), solar, DISCOUNT).npv


def test_distribution_summaries_and_exceedance_levels() -> None:
    starts, curve, solar = _market(1)
    run = simulate_ppa(
        parse_contract({"type": "fixed", "strike": 30}),
        starts,
        curve,
        solar,
        DISCOUNT,
        model=PathsStep(n_paths=200),
        seed=1,
    )
    assert run.exceedance(0.9) == pytest.approx(run.percentiles.p10)
    assert run.exceedance(0.5) == pytest.approx(run.percentiles.p50)
    assert run.expected_annual_settlement == pytest.approx(run.settlement.mean() * 8760 / len(starts))
    assert run.annual.columns == [
        "period_start",
        "volume_mwh",
        "settlement_mean",
        "settlement_p5",
        "settlement_p50",
        "settlement_p95",
    ]
    assert np.all(run.capture_rate > 0) and run.n_paths == 200


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_paths": 0}, "n_paths: 0 must be 1 to 100,000"),
        ({"price_volume_correlation": 1.5}, r"price_volume_correlation: 1.5 must be in \[-1, 1\]"),
        ({"basis_sd": -1.0}, "basis_sd: -1.0 must be >= 0"),
        ({"volume_sd": 2.0}, "volume_sd: interannual_sd: 2.0 must be a fraction"),
        ({"settle_at": "zone"}, "settle_at: 'zone' is not hub or node"),
        ({"basis": [1.0, 2.0]}, "basis: 2 values for 8760 hour starts"),
    ],
)
def test_bad_monte_carlo_inputs_are_refused(kwargs: dict[str, object], message: str) -> None:
    starts, curve, solar = _market(1)
    with pytest.raises(PpaError, match=message):
        simulate_ppa(
            parse_contract({"type": "fixed", "strike": 30}), starts, curve, solar, DISCOUNT, **kwargs
        )  # type: ignore[arg-type]


def test_antithetic_pairs_mirror_their_diffusion_and_odd_counts_work() -> None:
    starts, curve, solar = _market(1)
    window = slice(0, 24 * 31)
    step = PathsStep(n_paths=1, kappa=0.5, sigma=4.0)
    kernel = PathModel.of(step, curve[window], MonthGrid.of(starts).month_of_hour[window])
    paths = kernel.draw(row_generators(3, 0, 4, antithetic=True), antithetic=True).astype(np.float64)
    positive = curve[window] > 0
    # log(p / curve) = x - m (m the mean correction); a pair's x are opposite, so the two sum to -2 m.
    hub = curve[window][positive]
    correction = np.log(hub) - kernel.offset[positive].astype(np.float64)
    pair = np.log(paths[0, positive] / hub) + np.log(paths[1, positive] / hub)
    np.testing.assert_allclose(pair, -2 * correction, atol=2e-5)
    assert np.log(paths[0, positive] / hub).std() > 0.1  # while each path moves on its own
    assert not np.allclose(paths[0], paths[2])
    fixed = parse_contract({"type": "fixed", "strike": 30})
    odd = simulate_ppa(
        fixed, starts, curve, solar, DISCOUNT, model=PathsStep(n_paths=5), seed=1, chunk_paths=3
    )
    again = simulate_ppa(
        fixed, starts, curve, solar, DISCOUNT, model=PathsStep(n_paths=5), seed=1, chunk_paths=4
    )
    assert odd.n_paths == 5 and odd.npv.tobytes() == again.npv.tobytes()
    plain = simulate_ppa(
        fixed, starts, curve, solar, DISCOUNT, model=PathsStep(n_paths=5), seed=1, antithetic=False
    )
    assert not np.array_equal(plain.npv, odd.npv)


def test_kernel_draws_the_same_distribution_as_the_scenario_engine() -> None:
    from carbon254.scenarios.paths import simulate

    starts, curve, _ = _market(1)
    window = slice(0, 24 * 14)
    hub, month = curve[window], MonthGrid.of(starts).month_of_hour[window]
    step = PathsStep(n_paths=3000, kappa=0.4, sigma=5.0, jump_intensity=40, jump_mean=0.3, jump_sd=0.3)
    engine = simulate(step, hub, month, np.ones(len(hub)), np.random.default_rng(1))
    kernel = PathModel.of(step, hub, month)
    ours = kernel.draw(row_generators(1, 0, 3000, antithetic=False)).astype(np.float64)
    positive = hub > 0
    theirs_log, ours_log = (
        np.log(engine[:, positive] / hub[positive]),
        np.log(ours[:, positive] / hub[positive]),
    )
    # The same law hour by hour: the spread of log(price / curve) and its quantiles over all hours.
    late = slice(48, None)  # past the first two days, where both start from x = 0
    ratio = ours_log.std(axis=0)[late].mean() / theirs_log.std(axis=0)[late].mean()
    assert ratio == pytest.approx(1.0, abs=0.03)
    # Tolerances are a few times the sampling noise of 3,000 paths (the tail's is larger).
    for q, tolerance in ((5, 0.02), (50, 0.02), (95, 0.02), (99.5, 0.05)):
        expected = np.percentile(theirs_log[:, late], q)
        assert np.percentile(ours_log[:, late], q) == pytest.approx(expected, abs=tolerance)
