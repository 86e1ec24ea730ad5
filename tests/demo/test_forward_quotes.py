"""Simulated forward quotes: deterministic, mutually consistent, shaped like the real markets."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from carbon254.curves.model import ContractKind, Quote
from carbon254.demo.forward_quotes import UnknownHub, _hours, demo_marks, simulated_quotes
from carbon254.isos import Iso
from carbon254.timeseries.periods import Block

SEED = 254
AS_OF = date(2026, 3, 10)


def by_label(quotes: list[Quote]) -> dict[tuple[str, Block], float]:
    return {(q.contract.label, q.contract.block): q.price for q in quotes}


def test_deterministic_for_a_seed_and_different_for_another() -> None:
    first = simulated_quotes("ERCOT", "HB_NORTH", AS_OF, seed=SEED)
    assert simulated_quotes("ercot", "hb_north", AS_OF, seed=SEED) == first
    assert simulated_quotes("ERCOT", "HB_NORTH", AS_OF, seed=SEED + 1) != first


def test_the_strip_has_every_tenor() -> None:
    quotes = simulated_quotes("ERCOT", "HB_NORTH", AS_OF, seed=SEED)
    kinds = [q.contract.kind for q in quotes if q.contract.block is Block.ONPEAK]
    assert kinds.count(ContractKind.BALANCE_OF_MONTH) == 1
    assert kinds.count(ContractKind.MONTH) == 18
    assert kinds.count(ContractKind.QUARTER) == 6
    assert kinds.count(ContractKind.SEASON) == 1
    assert kinds.count(ContractKind.CALENDAR) == 3
    bom = quotes[0].contract
    assert (bom.start, bom.end) == (date(2026, 3, 11), date(2026, 4, 1))
    assert {q.contract.block for q in quotes} == {Block.ONPEAK, Block.OFFPEAK}


def test_overlapping_contracts_are_hours_weighted_averages_of_their_months() -> None:
    quotes = simulated_quotes("PJM", "WESTERN HUB", AS_OF, seed=SEED)
    prices = by_label(quotes)
    for block in (Block.ONPEAK, Block.OFFPEAK):
        months = [date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)]
        hours = np.array([_hours(Iso.PJM, m, m.replace(month=m.month + 1), block) for m in months])
        monthly = np.array([prices[(f"{m:%b%y}", block)] for m in months])
        assert prices[("Q3 26", block)] == pytest.approx(float(monthly @ hours / hours.sum()), abs=1e-9)
        # July 2026 onpeak: 23 weekdays x 16 h (July 4th is a Saturday, which NERC does not move).
        if block is Block.ONPEAK:
            assert hours[0] == 23 * 16
        assert prices[("JulAug26", block)] == pytest.approx(
            float(monthly[:2] @ hours[:2] / hours[:2].sum()), abs=1e-9
        )


def test_ercot_summer_onpeak_is_well_above_the_shoulders() -> None:
    prices = by_label(simulated_quotes("ERCOT", "HB_NORTH", AS_OF, seed=SEED))
    summer = prices[("Aug26", Block.ONPEAK)]
    assert summer > 1.3 * prices[("Apr26", Block.ONPEAK)]
    assert summer > 1.3 * prices[("Oct26", Block.ONPEAK)]


def test_pjm_winter_onpeak_is_above_spring() -> None:
    prices = by_label(simulated_quotes("PJM", "WESTERN HUB", AS_OF, seed=SEED))
    assert prices[("Jan27", Block.ONPEAK)] > prices[("Apr26", Block.ONPEAK)]


@pytest.mark.parametrize("iso", [i.value for i in Iso])
def test_onpeak_is_above_offpeak_in_most_months(iso: str) -> None:
    for iso_name, hub, _, quotes in demo_marks([iso], [AS_OF], seed=SEED):
        prices = by_label(quotes)
        months = [q.contract.label for q in quotes if q.contract.kind is ContractKind.MONTH]
        labels = sorted(set(months))
        above = sum(prices[(m, Block.ONPEAK)] >= prices[(m, Block.OFFPEAK)] for m in labels)
        assert above >= 0.8 * len(labels), (iso_name, hub)
        assert all(5.0 < p < 300.0 for p in prices.values()), (iso_name, hub)


def test_day_to_day_moves_are_small_and_not_zero() -> None:
    days = [AS_OF + timedelta(days=d) for d in range(40)]
    marks = list(demo_marks(["ERCOT"], days, seed=SEED))
    series: dict[str, list[float]] = {}
    for _, hub, day, quotes in marks:
        if hub != "HB_NORTH":
            continue
        cal = by_label(quotes)[(f"Cal{(day.year + 1) % 100}", Block.ONPEAK)]
        series.setdefault("cal", []).append(cal)
    values = np.array(series["cal"])
    moves = np.abs(np.diff(values) / values[:-1])
    assert moves.max() < 0.05
    assert moves.mean() > 0.0005


def test_demo_marks_match_single_day_quotes() -> None:
    days = [date(2026, 5, 1), date(2026, 5, 2)]
    marks = list(demo_marks(["NYISO"], days, seed=SEED))
    assert [(m[0], m[1], m[2]) for m in marks] == [
        ("NYISO", "N.Y.C.", days[0]),
        ("NYISO", "N.Y.C.", days[1]),
        ("NYISO", "HUD VL", days[0]),
        ("NYISO", "HUD VL", days[1]),
    ]
    assert marks[3][3] == simulated_quotes("NYISO", "HUD VL", days[1], seed=SEED)


def test_unknown_hub_and_iso_are_refused_clearly() -> None:
    with pytest.raises(UnknownHub, match="HB_NORTH"):
        simulated_quotes("ERCOT", "HB_NOWHERE", AS_OF, seed=SEED)
    with pytest.raises(KeyError, match="expected one of"):
        simulated_quotes("XYZ", "HB_NORTH", AS_OF, seed=SEED)
