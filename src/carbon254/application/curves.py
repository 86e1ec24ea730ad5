"""Marking forward curves as every surface offers it: quotes in, a fitted and stored curve out.

Marking writes, so it is not an `Operation` (those answer reads); it is the
one function REST (`POST /v1/curves`), GraphQL (`markCurve`), the SDK and
the CLI (`carbon254 curve build`) call. The reads of marked curves (`curve`,
`curve_hpfc`, `curve_diff`, `curve_history`, `node_curve`) are operations in
`application.operations.curves`.

A mark belongs to the caller's tenant; marks without an owner (the demo's
simulated marks) are shared by every tenant, and a tenant's own mark of a
hub and day takes precedence over a shared one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pyarrow.compute as pc

from carbon254.application.catalog import resolve_iso
from carbon254.application.datasets import DatasetQuery, build_query, read_rows, with_catalog_names
from carbon254.application.errors import ApiError, bad_parameter, renamed
from carbon254.application.identity import Principal, entitle_feature
from carbon254.application.params import required_text
from carbon254.config import Settings
from carbon254.curves import (
    ContradictoryQuotes,
    CurveFit,
    ImpliedQuote,
    MonthlyCurve,
    Quote,
    QuoteFileError,
    SeasonalPrior,
    fit_monthly_curve,
    quotes_from_records,
    read_quotes_csv,
    seasonal_prior,
)
from carbon254.metadata.curves import CurveMark, find_curve, list_curves, save_curve
from carbon254.metadata.database import MetadataDatabase
from carbon254.schema import Dataset
from carbon254.store.base import Store
from carbon254.timeseries.bounds import parse_bound, relative_anchor
from carbon254.timeseries.periods import Block

CURVES_FEATURE = "curves"
# Two years of day-ahead history shape the HPFC, the seasonal prior and a node's basis: long
# enough to see every month twice, short enough that today's grid and congestion dominate.
HISTORY_DAYS = 730
# A seasonal prior needs every month of year in the history: about a year of days at least.
PRIOR_MIN_HOURS = 24 * 330
# A strip of ten years of monthly on- and off-peak quotes is 240 lines; this leaves room for
# overlapping contracts while keeping one fit (a dense constraint check) well under a second.
MAX_QUOTES = 2_000


@dataclass(frozen=True, slots=True)
class MarkedCurve:
    """A mark: the curve as fitted, the quotes found redundant, its stored record (None if not saved).

    `prior` names the seasonal shape months inside longer contracts took:
    `history` (the hub's stored prices), `front year` (the curve's own first
    twelve months) or None.
    """

    mark: CurveMark | None
    curve: MonthlyCurve
    implied: tuple[ImpliedQuote, ...]
    prior: str | None


def parse_day(parameter: str, text: str | date) -> date:
    """`text` as a market day: `YYYY-MM-DD`, or `today` with an optional offset (`today-7d`, UTC dates).

    422 naming `parameter` otherwise.
    """
    if isinstance(text, date):
        return text
    value = required_text(parameter, text)
    if relative_anchor(value) is not None:
        try:
            return parse_bound(value, None).date()
        except ValueError as exc:
            raise bad_parameter(parameter, f"{parameter}: {exc}") from None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise bad_parameter(
            parameter, f"{parameter}: {text!r} is not a date (YYYY-MM-DD or today-7d)"
        ) from None


def parse_month(parameter: str, text: str, anchor: date | None = None) -> date:
    """`text` as a month's first day: `YYYY-MM`, a date within it, or `M+k` (k months after `anchor`'s).

    `anchor` is the mark's day for reads of a mark, so `M+1` is the prompt
    month as marked (the UTC date when None). 422 naming `parameter`.
    """
    value = required_text(parameter, text)
    relative = re.fullmatch(r"[mM]\s*\+\s*(\d{1,3})", value)
    if relative is not None:
        base = anchor or datetime.now(UTC).date()
        index = base.year * 12 + base.month - 1 + int(relative.group(1))
        return date(index // 12, index % 12 + 1, 1)
    try:
        return (date.fromisoformat(f"{value}-01") if len(value) == 7 else date.fromisoformat(value)).replace(
            day=1
        )
    except ValueError:
        raise bad_parameter(parameter, f"{parameter}: {text!r} is not a month (YYYY-MM, or M+1)") from None


def quotes_from_csv(text: str, as_of: date) -> list[Quote]:
    """The quotes of a CSV upload (`start,end,block,price` or `contract,block,price`); 422 lists bad lines."""
    try:
        quotes = read_quotes_csv(text, as_of=as_of)
    except QuoteFileError as exc:
        raise ApiError(422, "invalid_quotes", f"quotes: {exc}", "quotes") from None
    return _bounded(quotes)


def quotes_from_json(records: Sequence[object], as_of: date) -> list[Quote]:
    """The quotes of a JSON upload (a list of objects with the CSV's fields); 422 listing bad items."""
    if not all(isinstance(r, dict) for r in records):
        raise bad_parameter("quotes", "quotes: every item must be an object with start, end, block, price")
    try:
        quotes = quotes_from_records(records, as_of=as_of)  # type: ignore[arg-type]
    except QuoteFileError as exc:
        raise ApiError(422, "invalid_quotes", f"quotes: {exc}", "quotes") from None
    return _bounded(quotes)


def _bounded(quotes: list[Quote]) -> list[Quote]:
    if not quotes:
        raise bad_parameter("quotes", "quotes: no quotes given; a curve needs at least one")
    if len(quotes) > MAX_QUOTES:
        raise bad_parameter("quotes", f"quotes: {len(quotes):,} quotes; at most {MAX_QUOTES:,} per mark")
    return quotes


def history_query(
    store: Store, settings: Settings, iso: str, location: str, as_of: date, parameter: str
) -> DatasetQuery | None:
    """The day-ahead LMPs of `location` over the `HISTORY_DAYS` to `as_of`, as known at its end.

    Fewer days when the service's `max_range_days` is shorter.

    Known-at the mark's day, so an HPFC, prior or basis of yesterday's mark
    is reproduced exactly whatever was published since. Names are in the
    catalog's spelling. None when the store holds no day-ahead prices of
    that ISO or location: callers fall back (flat shape, no prior) or say so.
    """
    end = as_of + timedelta(days=1)
    # The window is ours, not the caller's: a service whose range limit is shorter than the
    # history reads what the limit allows rather than refusing a request that named no range
    # (a day less: a window of local days spanning a DST change is an hour longer in UTC).
    days = min(HISTORY_DAYS, max(1, settings.max_range_days - 1))
    try:
        query = build_query(
            store,
            settings,
            Dataset.LMP,
            iso=iso,
            market="DAM",
            locations=[location],
            start=(end - timedelta(days=days)).isoformat(),
            end=end.isoformat(),
            tz="iso",
            as_of=f"{end.isoformat()}T00:00",
        )
        return with_catalog_names(store.locations(iso=query.iso.value), query)
    except ApiError as exc:
        if exc.status_code == 404:
            return None
        raise renamed(exc, {"locations": parameter}) from None


def history_prior(store: Store, settings: Settings, iso: str, hub: str, as_of: date) -> SeasonalPrior | None:
    """The hub's month-of-year shape ($/MWh around its mean) from stored history; None without a year of it.

    Onpeak and offpeak levels from `seasonal_prior`; None when the store has
    less than about a year of the hub's day-ahead prices before `as_of`.
    """
    query = history_query(store, settings, iso, hub, as_of, "hub")
    if query is None:
        return None
    rows = read_rows(store, query)
    if rows.num_rows < PRIOR_MIN_HOURS:
        return None
    blocks = (Block.ONPEAK, Block.OFFPEAK)
    levels = seasonal_prior(rows, iso=iso, blocks=blocks)
    return SeasonalPrior(blocks, np.array([levels[b] for b in blocks]))


def catalog_hub(store: Store | None, iso: str, hub: str) -> str:
    """`hub` in the catalog's spelling when the store lists it (any case), else as given (trimmed).

    A forward hub need not be a priced location of the store (a trader may
    mark a hub before its prices are loaded), so an unknown name is kept.
    """
    name = required_text("hub", hub)
    if store is None:
        return name
    catalog = store.locations(iso=iso)
    names = catalog.column("location")
    folded = pc.utf8_lower(names)
    found = pc.index(folded, name.casefold()).as_py()
    return str(names[found].as_py()) if found >= 0 else name


def mark_curve(
    db: MetadataDatabase | None,
    principal: Principal,
    *,
    iso: str,
    hub: str,
    as_of: date,
    quotes: Sequence[Quote],
    through: date | None = None,
    store: Store | None = None,
    settings: Settings | None = None,
    use_prior: bool = True,
    save: bool = True,
) -> MarkedCurve:
    """Fit the maximum-smoothness monthly curve of `quotes` for `hub` on `as_of`; store it as a new version.

    Prices are $/MWh. 403 without the `curves` feature; 422 for contradictory
    quotes (naming them) or a block left undetermined. With `use_prior`
    and a year or more of the hub's day-ahead prices in `store`, months
    quoted only within longer contracts (calendars) take the hub's seasonal
    shape rather than a straight line (`MarkedCurve.prior` says so). Nothing
    is stored when the fit fails; with `save=False` (or no `db`) nothing is
    stored at all.
    """
    iso_ = resolve_iso(required_text("iso", iso))
    entitle_feature(principal, CURVES_FEATURE)
    hub_name = catalog_hub(store, iso_.value, hub)
    prior, source = None, None
    if use_prior and store is not None and settings is not None:
        prior = history_prior(store, settings, iso_.value, hub_name, as_of)
        source = "history" if prior is not None else None
    fit = _fit(quotes, iso_.value, hub_name, as_of, prior, through)
    if use_prior and prior is None:
        prior = front_year_prior(fit.curve, quotes)
        if prior is not None:
            fit, source = _fit(quotes, iso_.value, hub_name, as_of, prior, through), "front year"
    if not save or db is None:
        return MarkedCurve(None, fit.curve, fit.implied, source)
    mark = save_curve(
        db,
        owner=principal.tenant,
        curve=fit.curve,
        quotes=quotes,
        implied=fit.implied,
        created_by=principal.subject,
    )
    return MarkedCurve(mark, fit.curve, fit.implied, source)


def _fit(
    quotes: Sequence[Quote],
    iso: str,
    hub: str,
    as_of: date,
    prior: SeasonalPrior | None,
    through: date | None,
) -> CurveFit:
    """`fit_monthly_curve`, its refusals as 422s naming the quotes."""
    try:
        return fit_monthly_curve(quotes, iso=iso, hub=hub, as_of=as_of, prior=prior, through=through)
    except ContradictoryQuotes as exc:
        raise ApiError(422, "contradictory_quotes", f"quotes: {exc}", "quotes") from None
    except ValueError as exc:
        raise ApiError(422, "invalid_quotes", f"quotes: {exc}", "quotes") from None


def front_year_prior(curve: MonthlyCurve, quotes: Sequence[Quote]) -> SeasonalPrior | None:
    """The seasonal shape of the curve's first full twelve months, when the quotes price them finely.

    What a trader does without history: shape the back calendars like the
    front year. Used only when every one of those months lies in a quote of
    at most a quarter in each of onpeak and offpeak (months, quarters,
    two-month strips), so the shape is the market's, not the smoothing's;
    None otherwise. Levels are $/MWh around the twelve months' mean.
    """
    # A balance-of-month first month is partial: the front year starts after it.
    first = 1 if min(q.contract.start for q in quotes).day != 1 else 0
    front = curve.months[first : first + 12]
    if len(front) < 12:
        return None
    blocks = tuple(b for b in (Block.ONPEAK, Block.OFFPEAK) if b in curve.blocks)
    if not blocks:
        return None
    for block in blocks:
        covered = {
            month
            for q in quotes
            if q.contract.block in (block, Block.ATC) and _months(q.contract.start, q.contract.end) <= 3
            for month in front
            if q.contract.start <= month < q.contract.end
        }
        if len(covered) < 12:
            return None
    rows = [curve.months.index(m) for m in front]
    levels = np.zeros((len(blocks), 12))
    for i, block in enumerate(blocks):
        prices = curve.prices[rows, curve.blocks.index(block)]
        for month, price in zip(front, prices, strict=True):
            levels[i, month.month - 1] = price - prices.mean()
    return SeasonalPrior(blocks, levels)


def _months(start: date, end: date) -> int:
    """Calendar months a contract touches (a BOM counts as one)."""
    return (end.year - start.year) * 12 + end.month - start.month + (1 if end.day > 1 else 0)


def months_document(curve: MonthlyCurve) -> dict[str, list[dict[str, object]]]:
    """The curve as `{"months": [{"month": "YYYY-MM", "block": ..., "price": ...}, ...]}` ($/MWh).

    Months ascending, blocks in the curve's order within a month; the shape
    `carbon254 curve build --format json` prints and `POST /v1/curves` returns.
    """
    return {
        "months": [
            {"month": f"{month:%Y-%m}", "block": block.value, "price": float(curve.prices[i, j])}
            for i, month in enumerate(curve.months)
            for j, block in enumerate(curve.blocks)
        ]
    }


def find_mark(
    db: MetadataDatabase,
    principal: Principal,
    iso: str | None,
    hub: str,
    as_of: str | date | None,
    version: int | None = None,
) -> CurveMark:
    """The caller's mark of `hub` on or before `as_of` (own before shared; the latest when None).

    `iso` may be left out when one ISO's marks name the hub (Excel's
    `=C254.CURVE` takes none). 403 without the `curves` feature; 404 saying
    how to mark one when there is none; 422 for a malformed day or version.
    """
    entitle_feature(principal, CURVES_FEATURE)
    name = required_text("hub", hub)
    iso_value = resolve_iso(iso).value if iso else _iso_of(db, principal, name)
    day = parse_day("as_of", as_of) if as_of else None
    if version is not None and version < 1:
        raise bad_parameter("version", "version: versions start at 1")
    mark = find_curve(db, tenant=principal.tenant, iso=iso_value, hub=name, as_of=day, version=version)
    if mark is None:
        when = f" on or before {day}" if day else ""
        which = f" version {version}" if version is not None else ""
        raise ApiError(
            404,
            "curve_not_found",
            f"hub: no curve{which} marked for {iso_value} {name}{when}; mark one with POST /v1/curves "
            "or `carbon254 curve build`",
            "hub",
        )
    return mark


def _iso_of(db: MetadataDatabase, principal: Principal, hub: str) -> str:
    """The ISO whose marks name `hub`; 404 when none does, 422 when several do."""
    isos = sorted({m.iso for m in list_curves(db, tenant=principal.tenant, hub=hub)})
    if len(isos) == 1:
        return isos[0]
    if not isos:
        raise ApiError(
            404, "curve_not_found", f"hub: no curve is marked for {hub}; give iso, or mark one", "hub"
        )
    raise bad_parameter("iso", f"iso: {hub} is marked in {', '.join(isos)}; say which")
