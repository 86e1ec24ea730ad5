"""Random consistent quote sets, priced off a random monthly curve, are reproduced exactly."""

from datetime import date

import numpy as np
from curves_fit_helpers import next_month, reprice
from hypothesis import given, settings
from hypothesis import strategies as st

from carbon254.curves import Quote, day_hours, fit_monthly_curve, parse_contract
from carbon254.timeseries.periods import Block

AS_OF = date(2026, 12, 10)
MONTHS = [date(2027 + i // 12, i % 12 + 1, 1) for i in range(15)]
HOURS = day_hours("ERCOT", MONTHS[0], next_month(MONTHS[-1]))
LABELS = [f"{m:%b%y}" for m in MONTHS]
LABELS += ["Q1 27", "Q2 27", "Q3 27", "Q4 27", "Q1 28", "Sum27", "Win28", "Cal27"]
BLOCKS = [Block.ONPEAK, Block.OFFPEAK, Block.ATC]


def true_price(curve: np.ndarray, label: str, block: Block) -> float:
    """The hours-weighted price of a contract on a monthly curve (columns onpeak, offpeak)."""
    c = parse_contract(label, block, AS_OF)
    total = value = 0.0
    for i, m in enumerate(MONTHS):
        if not (c.start <= m < c.end):
            continue
        lo, hi = (m - MONTHS[0]).days, (next_month(m) - MONTHS[0]).days
        on = float(HOURS.onpeak[lo:hi].sum())
        off = float((HOURS.two_by_16 + HOURS.seven_by_8)[lo:hi].sum())
        parts = {Block.ONPEAK: [(on, 0)], Block.OFFPEAK: [(off, 1)], Block.ATC: [(on, 0), (off, 1)]}[block]
        for hours, j in parts:
            total += hours
            value += hours * curve[i, j]
    return value / total


@settings(max_examples=25, deadline=None)
@given(
    prices=st.lists(st.floats(-20, 300), min_size=30, max_size=30),
    picks=st.lists(st.tuples(st.sampled_from(LABELS), st.sampled_from(BLOCKS)), min_size=1, max_size=25),
)
def test_consistent_quotes_are_reproduced(prices: list[float], picks: list[tuple[str, Block]]) -> None:
    curve = np.array(prices).reshape(15, 2)
    chosen = [("Cal27", Block.ATC), ("Jan27", Block.ONPEAK), *picks]
    quotes = [
        Quote(parse_contract(label, block, AS_OF), true_price(curve, label, block), line)
        for line, (label, block) in enumerate(chosen, start=2)
    ]
    fit = fit_monthly_curve(quotes, iso="ERCOT", hub="HB_NORTH", as_of=AS_OF)
    for q in quotes:
        assert abs(reprice(fit.curve, q) - q.price) <= 1e-7 * max(1.0, abs(q.price)), q.name
    for implied in fit.implied:
        assert abs(implied.implied_price - implied.quote.price) < 1e-7
