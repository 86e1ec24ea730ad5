from datetime import date

import numpy as np
import pytest
from curves_fit_helpers import assert_reproduces, reprice

from carbon254.curves import (
    ContradictoryQuotes,
    SeasonalPrior,
    UndeterminedBlock,
    daily_block_hours,
    fit_monthly_curve,
    read_quotes_csv,
)
from carbon254.timeseries.periods import Block

AS_OF = date(2026, 12, 10)


def fit(text: str, **kwargs: object):  # type: ignore[no-untyped-def]
    quotes = read_quotes_csv(text, as_of=AS_OF)
    return quotes, fit_monthly_curve(quotes, iso="PJM", hub="WEST", as_of=AS_OF, **kwargs)  # type: ignore[arg-type]


OVERLAPPING = """contract,block,price
BOM,onpeak,61
BOM,offpeak,44
Jan27,onpeak,70
Feb27,onpeak,66
Q1 27,onpeak,62.3
Q1 27,offpeak,45
Jan27,offpeak,52
Q2 27,atc,38
Q3 27,onpeak,80
Q3 27,offpeak,40
Cal27,atc,47
Q1 28,2x16,40
Q1 28,7x8,33
Q1 28,onpeak,55
Cal28,atc,44
"""


def test_overlapping_quotes_reprice_exactly_from_the_monthly_output() -> None:
    quotes, result = fit(OVERLAPPING)
    curve = result.curve
    assert result.base_blocks == (Block.ONPEAK, Block.TWO_BY_16, Block.SEVEN_BY_8)
    assert curve.blocks == (Block.ONPEAK, Block.OFFPEAK, Block.ATC, Block.TWO_BY_16, Block.SEVEN_BY_8)
    assert curve.months[0] == date(2026, 12, 1) and curve.months[-1] == date(2028, 12, 1)
    assert curve.quoted_through == date(2029, 1, 1)
    # The BOM month covers Dec 11-31 only: 14 business days (Christmas is a NERC holiday).
    assert curve.hours[0, 0] == 14 * 16 and curve.hours[0, 2] == 21 * 24
    assert not result.implied
    assert_reproduces(curve, quotes)
    # Derived blocks are hours-weighted combinations of the base ones, month by month.
    h, p = curve.hours.astype(float), curve.prices
    assert np.allclose(h[:, 1] * p[:, 1], h[:, 3] * p[:, 3] + h[:, 4] * p[:, 4], rtol=1e-12)
    assert np.allclose(h[:, 2] * p[:, 2], h[:, 0] * p[:, 0] + h[:, 1] * p[:, 1], rtol=1e-12)
    assert (h[:, 2] == h[:, 0] + h[:, 1]).all()


def test_redundant_quotes_within_tolerance_are_reported_as_implied() -> None:
    # Q1 onpeak is the hours-weighted mean of its months: Jan 320 h, Feb 320 h, Mar 368 h.
    q1 = (320 * 40 + 320 * 45 + 368 * 38) / 1008
    text = f"""contract,block,price
Jan27,onpeak,40
Feb27,onpeak,45
Mar27,onpeak,38
Q1 2027,onpeak,{q1 + 0.004}
Q1 2027,offpeak,30
Q1 2027,atc,{(1008 * q1 + 1151 * 30) / 2159}
Jan27,onpeak,40
"""
    quotes, result = fit(text)
    implied = {(i.quote.line, round(i.implied_price, 9)) for i in result.implied}
    assert implied == {(5, round(q1, 9)), (7, round((1008 * q1 + 1151 * 30) / 2159, 9)), (8, 40.0)}
    curve = result.curve
    assert curve.hours[0:3, 0].tolist() == [320, 320, 368]
    assert curve.hours[0:3, 1].sum() == 1151
    kept = [q for q in quotes if q.line not in (5, 7, 8)]
    assert_reproduces(curve, kept)
    assert abs(reprice(curve, quotes[3]) - q1) < 1e-9


def test_contradiction_names_the_quote_the_kept_quotes_and_both_prices() -> None:
    text = """contract,block,price
Jan27,onpeak,40
Feb27,onpeak,40
Mar27,onpeak,40
Q1 2027,onpeak,50
"""
    with pytest.raises(ContradictoryQuotes) as err:
        fit(text)
    assert str(err.value).startswith(
        "Q1 2027 onpeak @ 50 (line 5) contradicts Jan27 onpeak @ 40 (line 2), "
        "Feb27 onpeak @ 40 (line 3), Mar27 onpeak @ 40 (line 4), which imply 40.000"
    )


def test_atc_contradicting_onpeak_and_offpeak() -> None:
    text = """contract,block,price
Jan27,onpeak,60
Jan27,offpeak,40
Jan27,atc,55
"""
    with pytest.raises(ContradictoryQuotes, match=r"Jan27 atc @ 55 \(line 4\) contradicts Jan27 onpeak"):
        fit(text)


def test_smooth_at_every_knot_and_flat_at_the_end() -> None:
    _, result = fit(OVERLAPPING)
    inner = result.knots[1:-1]
    assert len(inner) >= 24
    for block in result.base_blocks:
        scale = float(np.abs(result.eps(block, result.knots)).max())
        for m in range(3):
            left = result.eps(block, inner, derivative=m, side="left")
            right = result.eps(block, inner, derivative=m, side="right")
            assert np.abs(left - right).max() <= 1e-9 * scale, (block, m)
        end = result.knots[-1:]
        assert abs(float(result.f(block, end, derivative=1, side="left")[0])) <= 1e-9 * scale
    # Third derivatives do jump: the spline really is piecewise.
    jumps = result.eps(Block.ONPEAK, inner, derivative=3, side="left") - result.eps(
        Block.ONPEAK, inner, derivative=3, side="right"
    )
    assert np.abs(jumps).max() > 1e-6


def test_a_lone_quote_gives_a_flat_curve() -> None:
    _, result = fit("contract,block,price\nCal27,atc,47.25\n")
    assert result.base_blocks == (Block.ATC,)
    assert result.curve.blocks == (Block.ATC,)
    assert np.allclose(result.curve.prices, 47.25, atol=1e-9)
    t = np.linspace(0, result.knots[-1], 400)
    assert np.allclose(result.f(Block.ATC, t), 47.25, atol=1e-9)
    assert np.abs(result.eps(Block.ATC, t, derivative=1)).max() < 1e-9


def test_prior_shapes_the_months_and_quotes_still_reprice() -> None:
    shape = np.array([6.0, 4, 0, -3, -4, 1, 8, 9, 0, -5, -7, -9])
    prior = SeasonalPrior((Block.ATC,), shape[None, :] - shape.mean())
    quotes, result = fit("contract,block,price\nCal27,atc,47\n", prior=prior)
    prices = result.curve.prices[:, 0]
    # eps is flat for a lone quote, so months differ exactly by the prior's differences.
    assert np.allclose(np.diff(prices), np.diff(shape), atol=1e-9)
    assert_reproduces(result.curve, quotes)
    quotes, result = fit(OVERLAPPING, prior=prior)
    assert_reproduces(result.curve, quotes)
    # 2x16 and 7x8 take the atc levels when the prior has no offpeak row.
    assert np.array_equal(result.prior[1], prior.levels[0])


def test_through_extends_past_the_last_quote_and_stays_flat_at_the_end() -> None:
    text = "contract,block,price\nQ1 27,onpeak,60\nQ1 27,offpeak,40\n"
    quotes, result = fit(text, through=date(2027, 9, 15))
    curve = result.curve
    assert curve.months[-1] == date(2027, 9, 1) and curve.quoted_through == date(2027, 4, 1)
    assert_reproduces(curve, quotes)
    for block in result.base_blocks:
        slope = result.eps(block, result.knots[-1:], derivative=1, side="left")
        assert abs(float(slope[0])) < 1e-9
    assert np.allclose(curve.prices[:, 0], 60, atol=1e-9)  # flat: a lone quote per block


def test_only_onpeak_quotes_leave_offpeak_undetermined() -> None:
    with pytest.raises(UndeterminedBlock, match="no quote constrains offpeak"):
        fit("contract,block,price\nJan27,onpeak,60\nFeb27,onpeak,61\n")


def test_levels_that_only_move_together_are_undetermined() -> None:
    with pytest.raises(UndeterminedBlock, match="onpeak, 7x8"):
        fit("contract,block,price\nJan27,2x16,40\nCal27,atc,45\n")


def test_a_contract_without_hours_of_its_block_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"2027-01-02\.\.2027-01-04 onpeak @ 50 \(line 2\).*no onpeak hours"):
        fit("start,end,block,price\n2027-01-02,2027-01-04,onpeak,50\n2027-01-01,2027-02-01,offpeak,40\n")


def test_no_quotes_is_an_error() -> None:
    with pytest.raises(ValueError, match="no quotes"):
        fit_monthly_curve([], iso="PJM", hub="WEST", as_of=AS_OF)


def test_custom_periods_and_dst_months_reprice() -> None:
    text = """start,end,block,price
2027-03-01,2027-04-01,atc,41
2027-11-01,2027-12-01,atc,39
2027-03-05,2027-03-20,atc,45
"""
    quotes, result = fit(text)
    assert result.curve.hours[0, 0] == 743  # March loses an hour to DST
    assert result.curve.hours[-1, 0] == 721
    assert_reproduces(result.curve, quotes[:2])
    # A mid-month period reprices through the daily curve: hours-weighted day integrals (3-point
    # Gauss-Legendre is exact for quartics), with 23 hours on Mar 14.
    hours = daily_block_hours("PJM", date(2027, 3, 5), date(2027, 3, 20), Block.ATC).astype(float)
    assert hours[9] == 23
    nodes, gauss = np.polynomial.legendre.leggauss(3)
    day = np.arange(4, 19)[:, None] + (nodes[None, :] + 1) / 2
    integrals = (result.f(Block.ATC, day.ravel()).reshape(day.shape) * gauss / 2).sum(axis=1)
    assert abs((hours * integrals).sum() / hours.sum() - 45) < 1e-9
