"""The maximum smoothness forward curve (Benth, Koekebakker & Ollmar 2007), per base block.

For each base block b the daily curve is `f_b(t) = prior_b(t) + eps_b(t)`,
t in days from the curve start (the earliest quoted delivery day).
`eps_b` is a piecewise quartic with knots at every month start and every
contract start and end, continuous in level, slope and curvature, with
`eps_b'(T) = 0` at the curve end T (BKO's end condition). Among all such
curves that reprice every quote we take the one minimising
`sum_b integral eps_b''(t)^2 dt`. No extra penalty on `eps'` is needed:
a spline with zero curvature everywhere is a straight line, and the end
condition makes it flat, so the roughness is zero only on constants, and
a constant per base block is fixed by the quotes (or reported as
undetermined). A lone quote therefore gives a flat curve at its price.

A quote's constraint: the curve's hours-weighted average over its
contract, `sum_d sum_{b in block} w_{b,d} int_d f_b(t) dt / sum w = price`,
where `w_{b,d}` are the base block's hours on day d in the ISO's market
time (`carbon254.curves.hours`, DST and NERC holidays included). This is an
equality-constrained quadratic programme, solved through its KKT system
with one sparse LU factorisation.

The prior, when given, is stepwise: one additive level per calendar month,
so `f = prior + eps` steps at month starts while `eps` stays C2; its
derivatives are those of eps. Past the last quoted day (`through`) the
spline carries on smoothly until its slope reaches zero at the curve end,
so the extension levels off near the last quoted level, and the prior adds
its month-of-year shape on top.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from carbon254.curves.errors import UndeterminedBlock
from carbon254.curves.hours import DayHours, day_hours
from carbon254.curves.model import MonthlyCurve, Quote
from carbon254.curves.reconcile import DEFAULT_TOLERANCE, ImpliedQuote, reconcile
from carbon254.curves.smooth import TERMS, QuarticSpline, day_integrals, roughness_matrix, smoothness_rows
from carbon254.timeseries.periods import Block

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

_OUTPUT_ORDER = (Block.ONPEAK, Block.OFFPEAK, Block.ATC, Block.TWO_BY_16, Block.SEVEN_BY_8)
_DERIVED = {
    (Block.ATC,): (),
    (Block.ONPEAK, Block.OFFPEAK): (Block.ATC,),
    (Block.ONPEAK, Block.TWO_BY_16, Block.SEVEN_BY_8): (Block.OFFPEAK, Block.ATC),
}
# Prior levels for a base block the prior does not list are taken from the block that contains it.
_PRIOR_FALLBACK = {
    Block.ONPEAK: (Block.ATC,),
    Block.OFFPEAK: (Block.ATC,),
    Block.TWO_BY_16: (Block.OFFPEAK, Block.ATC),
    Block.SEVEN_BY_8: (Block.OFFPEAK, Block.ATC),
    Block.ATC: (),
}


@dataclass(frozen=True, slots=True)
class SeasonalPrior:
    """Month-of-year shape per block: `levels[i, m]` ($/MWh) for `blocks[i]` in month m+1, around their mean.

    A base block of the fit that the prior does not list takes the levels
    of the block containing it (2x16 and 7x8 from offpeak, then atc; onpeak
    and offpeak from atc), else zero.
    """

    blocks: tuple[Block, ...]
    levels: Floats

    def __post_init__(self) -> None:
        levels = np.asarray(self.levels, dtype=np.float64)
        if levels.shape != (len(self.blocks), 12):
            shape = levels.shape
            raise ValueError(f"prior levels must be {len(self.blocks)} blocks x 12 months, got {shape}")
        if len(set(self.blocks)) != len(self.blocks):
            raise ValueError(f"prior lists a block twice: {[b.value for b in self.blocks]}")
        if not np.isfinite(levels).all():
            raise ValueError("prior levels must be finite $/MWh")
        object.__setattr__(self, "levels", levels)

    def of(self, block: Block) -> Floats:
        """The 12 month-of-year levels ($/MWh) applied to base block `block` (zeros if none applies)."""
        for candidate in (block, *_PRIOR_FALLBACK[block]):
            if candidate in self.blocks:
                row: Floats = self.levels[self.blocks.index(candidate)]
                return row
        return np.zeros(12)


@dataclass(frozen=True, slots=True)
class CurveFit:
    """A fitted curve: the monthly block prices, the quotes dropped as implied, and the daily splines.

    `knots` are days from `start` (the curve start, day 0 = `start`);
    `splines[i]` is eps of `base_blocks[i]`; `prior[i]` its 12 monthly
    prior levels ($/MWh).
    """

    curve: MonthlyCurve
    implied: tuple[ImpliedQuote, ...]
    knots: Floats
    start: date
    base_blocks: tuple[Block, ...]
    splines: tuple[QuarticSpline, ...]
    prior: Floats

    def _spline(self, block: Block) -> int:
        try:
            return self.base_blocks.index(block)
        except ValueError:
            bases = ", ".join(b.value for b in self.base_blocks)
            raise KeyError(f"{block.value} is not a base block of this fit ({bases})") from None

    def eps(self, block: Block, t: Floats, *, derivative: int = 0, side: str = "right") -> Floats:
        """eps of base `block` ($/MWh, or per day^m for derivative m) at days `t` from `start`.

        `side` picks the piece at a knot (see `QuarticSpline.__call__`).
        """
        return self.splines[self._spline(block)](t, derivative=derivative, side=side)

    def f(self, block: Block, t: Floats, *, derivative: int = 0, side: str = "right") -> Floats:
        """The forward curve f = prior + eps of base `block` at days `t` from `start` ($/MWh).

        The prior is constant within a calendar month, so derivatives are eps's.
        """
        i = self._spline(block)
        value = self.splines[i](t, derivative=derivative, side=side)
        if derivative:
            return value
        t = np.asarray(t, dtype=np.float64)
        days = np.datetime64(self.start, "D") + np.floor(t).astype("timedelta64[D]")
        month = days.astype("datetime64[M]").astype(np.int64) % 12
        result: Floats = value + self.prior[i][month]
        return result


def _base_blocks(quotes: Sequence[Quote]) -> tuple[Block, ...]:
    blocks = {q.contract.block for q in quotes}
    if blocks & {Block.TWO_BY_16, Block.SEVEN_BY_8}:
        return (Block.ONPEAK, Block.TWO_BY_16, Block.SEVEN_BY_8)
    if blocks & {Block.ONPEAK, Block.OFFPEAK}:
        return (Block.ONPEAK, Block.OFFPEAK)
    return (Block.ATC,)


def _parts(block: Block, bases: tuple[Block, ...]) -> tuple[Block, ...]:
    """The fit's base blocks whose hours make up `block`."""
    if block in bases:
        return (block,)
    if block is Block.ATC:
        return bases
    if block is Block.OFFPEAK:
        return (Block.TWO_BY_16, Block.SEVEN_BY_8)
    raise AssertionError(f"{block} is not made of {bases}")  # the bases are chosen from the quotes


def _base_hours(hours: DayHours, block: Block) -> Floats:
    return hours.of(block).astype(np.float64)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _months(start: date, end: date) -> list[date]:
    months = [_month_start(start)]
    while _next_month(months[-1]) < end:
        months.append(_next_month(months[-1]))
    return months


def _check_determined(bases: tuple[Block, ...], shares: Floats, kept: tuple[int, ...]) -> None:
    """Raise if some combination of base-block levels leaves every kept quote unchanged.

    `shares[q, b]` is base b's share of quote q's hours; the fit is unique
    exactly when these columns are independent (only per-block constants
    have zero roughness).
    """
    covered: npt.NDArray[np.bool_] = np.any(shares[list(kept)] > 0, axis=0)
    for b, block in enumerate(bases):
        if not covered[b]:
            raise UndeterminedBlock(
                f"no quote constrains {block.value}: the fit uses base blocks "
                f"{', '.join(x.value for x in bases)}, and no quote covers {block.value} hours "
                f"(add a {block.value}, offpeak or atc quote)"
            )
    _, singular, vt = np.linalg.svd(shares[list(kept)], full_matrices=True)
    rank = int((singular > 1e-9 * singular[0]).sum())
    if rank < len(bases):
        free = np.abs(vt[rank:]).max(axis=0) > 1e-9
        names = ", ".join(b.value for b, f in zip(bases, free, strict=True) if f)
        raise UndeterminedBlock(
            f"the quotes do not separate the levels of {names}: each quote covers them only together "
            f"(e.g. atc), so raising one and lowering the other reprices every quote; quote one of them alone"
        )


def fit_monthly_curve(
    quotes: Sequence[Quote],
    *,
    iso: str,
    hub: str,
    as_of: date,
    prior: SeasonalPrior | None = None,
    through: date | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    simulated: bool = False,
) -> CurveFit:
    """Fit the maximum smoothness monthly block curve of one hub to forward quotes ($/MWh).

    Base blocks: {onpeak, 2x16, 7x8} if any 2x16 or 7x8 quote, else
    {onpeak, offpeak} if any onpeak or offpeak quote, else {atc}. The curve
    starts on the earliest quoted delivery day and ends after the last one,
    or at the end of the month of `through` if later. Monthly prices are
    the block-hours-weighted averages of the daily curve within each month
    (the first month from the curve start only); `curve.hours` holds those
    hours, so each kept quote equals `sum_m H_m p_m / sum_m H_m` over its
    months. Overlapping quotes are reconciled (`reconcile`): redundant ones
    within `tolerance` $/MWh come back in `implied`, others raise
    `ContradictoryQuotes`. Raises `UndeterminedBlock` when a base block's
    level is not pinned by the quotes, ValueError for no quotes or a quote
    without hours of its block, KeyError for an unknown ISO.
    """
    if not quotes:
        raise ValueError(f"no quotes to fit the {hub} curve to")
    bases = _base_blocks(quotes)
    start = min(q.contract.start for q in quotes)
    quoted_through = max(q.contract.end for q in quotes)
    end = quoted_through
    if through is not None:
        end = max(end, _next_month(through))
    months = _months(start, end)
    boundaries = {start, end, *months[1:]}
    boundaries |= {q.contract.start for q in quotes} | {q.contract.end for q in quotes}
    knot_days = np.array(sorted((d - start).days for d in boundaries), dtype=np.int64)
    knots = knot_days.astype(np.float64)
    pieces = len(knot_days) - 1

    hours = day_hours(iso, start, end)
    integrals = day_integrals(knot_days)
    day_of_year = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D"))
    month_of_day = day_of_year.astype("datetime64[M]").astype(np.int64) % 12
    prior_levels = np.array([prior.of(b) if prior else np.zeros(12) for b in bases])
    piece_starts = knot_days[:-1]

    # Per base block and piece: hours, hours-weighted integrals of u^k, hours-weighted prior.
    weights = np.array([_base_hours(hours, b) for b in bases])  # bases x days
    piece_hours = np.add.reduceat(weights, piece_starts, axis=1)  # bases x pieces
    weighted = np.add.reduceat(weights[:, :, None] * integrals[None], piece_starts, axis=1)
    prior_daily = prior_levels[:, month_of_day]  # bases x days
    piece_prior = np.add.reduceat(weights * prior_daily, piece_starts, axis=1)

    index = {b: i for i, b in enumerate(bases)}
    spans = []
    rows = np.zeros((len(quotes), len(bases) * pieces))
    for q, quote in enumerate(quotes):
        c = quote.contract
        first = int(np.searchsorted(knot_days, (c.start - start).days))
        last = int(np.searchsorted(knot_days, (c.end - start).days))
        members = [index[b] for b in _parts(c.block, bases)]
        total = float(piece_hours[members, first:last].sum())
        if total == 0:
            raise ValueError(f"{quote.name}: the contract has no {c.block.value} hours in {iso} market time")
        for b in members:
            rows[q, b * pieces + first : b * pieces + last] = piece_hours[b, first:last] / total
        spans.append((first, last, members, total))

    reconciled = reconcile(quotes, rows, tolerance=tolerance)
    shares = rows.reshape(len(quotes), len(bases), pieces).sum(axis=2)
    _check_determined(bases, shares, reconciled.kept)

    # Quote rows on the coefficients: sum over members and pieces of weighted integrals / hours.
    q_rows: list[Ints] = []
    q_cols: list[Ints] = []
    q_vals: list[Floats] = []
    rhs = np.zeros(len(reconciled.kept))
    for r, q in enumerate(reconciled.kept):
        first, last, members, total = spans[q]
        prior_part = 0.0
        for b in members:
            cols = (b * pieces + np.arange(first, last))[:, None] * TERMS + np.arange(TERMS)[None, :]
            q_cols.append(cols.ravel())
            q_vals.append((weighted[b, first:last] / total).ravel())
            q_rows.append(np.full(cols.size, r))
            prior_part += float(piece_prior[b, first:last].sum()) / total
        rhs[r] = quotes[q].price - prior_part
    smooth = smoothness_rows(knots, len(bases))
    n = len(bases) * pieces * TERMS
    quote_matrix = sp.coo_matrix(
        (np.concatenate(q_vals), (np.concatenate(q_rows), np.concatenate(q_cols))),
        shape=(len(rhs), n),
    )
    constraints = sp.vstack([smooth, quote_matrix], format="csc")
    # Scaling the objective by a typical piece length cubed changes nothing but the KKT system's balance.
    roughness = roughness_matrix(knots, len(bases)) * float(np.mean(np.diff(knots))) ** 3
    kkt = sp.bmat([[roughness, constraints.T], [constraints, None]], format="csc")
    b_full = np.concatenate([np.zeros(n + smooth.shape[0]), rhs])
    lu = spla.splu(kkt)
    x = lu.solve(b_full)
    x += lu.solve(b_full - kkt @ x)  # one step of refinement: quotes reprice to ~1e-12
    coefficients = x[:n].reshape(len(bases), pieces, TERMS)

    # Monthly prices: per piece, hours-weighted sums of the daily curve, summed over the month's pieces.
    piece_value = np.einsum("bpk,bpk->bp", weighted, coefficients) + piece_prior
    plain = np.add.reduceat(integrals, piece_starts, axis=0)  # unweighted, for months without hours
    piece_plain = np.einsum("pk,bpk->bp", plain, coefficients) + np.add.reduceat(
        prior_daily, piece_starts, axis=1
    )
    piece_days = np.diff(knot_days).astype(np.float64)
    month_piece = np.searchsorted(knot_days, [max((m - start).days, 0) for m in months])
    month_value = np.add.reduceat(piece_value, month_piece, axis=1)
    month_hours = np.add.reduceat(piece_hours, month_piece, axis=1)
    month_plain = np.add.reduceat(piece_plain, month_piece, axis=1)
    month_days = np.add.reduceat(piece_days, month_piece)

    blocks = tuple(b for b in _OUTPUT_ORDER if b in bases or b in _DERIVED[bases])
    prices = np.empty((len(months), len(blocks)))
    out_hours = np.empty((len(months), len(blocks)), dtype=np.int64)
    for j, block in enumerate(blocks):
        members = [index[b] for b in _parts(block, bases)]
        h = month_hours[members].sum(axis=0)
        v = month_value[members].sum(axis=0)
        # A month with no hours of the block (a weekend-only BOM for onpeak) gets the curve's plain mean.
        fallback = month_plain[members].sum(axis=0) / (month_days * len(members))
        with np.errstate(divide="ignore", invalid="ignore"):
            prices[:, j] = np.where(h > 0, v / np.where(h > 0, h, 1), fallback)
        out_hours[:, j] = np.rint(h).astype(np.int64)

    curve = MonthlyCurve(
        iso=iso,
        hub=hub,
        as_of=as_of,
        months=tuple(months),
        blocks=blocks,
        prices=prices,
        hours=out_hours,
        quoted_through=quoted_through,
        simulated=simulated,
    )
    splines = tuple(QuarticSpline(knots, coefficients[b]) for b in range(len(bases)))
    return CurveFit(curve, reconciled.implied, knots, start, bases, splines, prior_levels)
