"""Curve marks: fitted monthly curves of (iso, hub, as_of), versioned per owner, with their quotes.

A mark belongs to a tenant (its own marks) or to no one (the shared market
marks every tenant sees, such as the demo's simulated ones). Re-marking the
same iso/hub/as_of adds a version; earlier versions are kept and never
updated. Lookups see a tenant's own marks and the shared ones, and prefer
the tenant's own for the same as_of. Hubs are stored as given and matched
case-insensitively. Prices are $/MWh; `created_at` is UTC.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

import numpy as np
from sqlalchemy import ColumnElement, Select, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from carbon254.curves.model import Contract, ContractKind, MonthlyCurve, Quote
from carbon254.isos import Iso
from carbon254.metadata.database import MetadataDatabase
from carbon254.metadata.errors import MetadataError
from carbon254.metadata.models import NAME_LENGTH, CurveMarkRow, CurvePointRow
from carbon254.metadata.tenants import TENANT_NAME
from carbon254.timeseries.periods import Block

HUB_LENGTH = 200
SUBJECT_LENGTH = 200
# A concurrent saver on PostgreSQL may take the same next version first; the
# unique constraint refuses the loser, which then recounts (SQLite writers are
# serialised by the write lock, so they never collide).
VERSION_ATTEMPTS = 5
# Keeps each `IN (...)` list well under SQLite's bound-parameter limit.
ID_CHUNK = 500


class InvalidCurveMark(MetadataError, ValueError):
    """A curve mark that cannot be stored; `field` names the offending part (e.g. `hub`, `prices`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class ImpliedQuoteLike(Protocol):
    """What the fit reports for a redundant quote: the quote and the price the curve implies ($/MWh)."""

    @property
    def quote(self) -> Quote: ...

    @property
    def implied_price(self) -> float: ...


@dataclass(frozen=True, slots=True)
class ImpliedPrice:
    """A redundant quote as marked, with the price ($/MWh) the fitted curve implies for its contract."""

    quote: Quote
    implied_price: float


@dataclass(frozen=True, slots=True)
class NewCurveMark:
    """A fitted curve to store: its owner (a tenant, or None for shared), quotes and implied quotes."""

    owner: str | None
    curve: MonthlyCurve
    quotes: Sequence[Quote]
    implied: Sequence[ImpliedQuoteLike]
    created_by: str


@dataclass(frozen=True, slots=True, eq=False)
class CurveMark:
    """A stored curve mark: `curve` is the monthly curve exactly as saved (months, blocks, $/MWh, hours).

    `id` is what scenario runs cite as their base. `owner` None marks a
    shared (market) mark. `created_at` is UTC.
    """

    id: int
    owner: str | None
    version: int
    created_at: datetime
    created_by: str
    curve: MonthlyCurve
    quotes: tuple[Quote, ...]
    implied: tuple[ImpliedPrice, ...]

    @property
    def iso(self) -> str:
        """The mark's ISO (upper case)."""
        return self.curve.iso

    @property
    def hub(self) -> str:
        """The hub as it was first given."""
        return self.curve.hub

    @property
    def as_of(self) -> date:
        """The market day the curve was marked for."""
        return self.curve.as_of

    @property
    def simulated(self) -> bool:
        """Whether the curve was marked from simulated quotes."""
        return self.curve.simulated


@dataclass(frozen=True, slots=True)
class CurveMarkSummary:
    """One stored mark without its points: what a listing shows (`months` is how many months it covers)."""

    id: int
    iso: str
    hub: str
    as_of: date
    version: int
    owner: str | None
    simulated: bool
    months: int
    created_at: datetime


def hub_key(hub: str) -> str:
    """The folded form of a hub name that lookups match on (case and surrounding spaces ignored)."""
    return hub.strip().casefold()


def save_curve(
    db: MetadataDatabase,
    *,
    owner: str | None,
    curve: MonthlyCurve,
    quotes: Sequence[Quote],
    implied: Sequence[ImpliedQuoteLike],
    created_by: str,
) -> CurveMark:
    """Store one fitted curve as the next version of `owner`'s mark of its iso/hub/as_of.

    `owner` is a tenant name, or None for a shared market mark. The mark, its
    quotes and every point are written in one transaction: all or nothing.
    Raises `InvalidCurveMark` naming the offending field for a malformed
    curve, quote, owner or subject.
    """
    return save_curves(
        db,
        [NewCurveMark(owner=owner, curve=curve, quotes=quotes, implied=implied, created_by=created_by)],
    )[0]


def save_curves(db: MetadataDatabase, marks: Sequence[NewCurveMark]) -> list[CurveMark]:
    """Store many fitted curves in one transaction (all or nothing), each as its owner's next version.

    Every mark is checked before anything is written; versions are counted
    with one query and the marks and points are inserted as two multi-row
    statements, so thousands of marks (a demo's days of hubs) take well under
    a second. Several marks of one owner/iso/hub/as_of in one call become
    consecutive versions in the given order. Returns the stored marks in the
    order given.
    """
    prepared = [_prepare(i, mark) for i, mark in enumerate(marks)]
    if not prepared:
        return []
    attempt = 1
    while True:
        try:
            return _insert(db, prepared)
        except IntegrityError as error:
            if attempt >= VERSION_ATTEMPTS or "uq_curve_marks_version" not in str(error.orig):
                raise
            attempt += 1


def find_curve(
    db: MetadataDatabase,
    *,
    tenant: str | None,
    iso: str,
    hub: str,
    as_of: date | None = None,
    version: int | None = None,
) -> CurveMark | None:
    """The mark of iso/hub with the greatest as_of <= `as_of` (the latest of all when None), or None.

    `tenant` sees its own marks and the shared ones (None: the shared ones
    only); when both exist for that as_of its own win. `version` picks that
    version of the chosen owner's mark (None: its latest); None when it does
    not exist.
    """
    iso_name = _iso(iso)
    with db.session() as session:
        visible = _visible(tenant)
        latest = select(func.max(CurveMarkRow.as_of)).where(
            CurveMarkRow.iso == iso_name, CurveMarkRow.hub_key == hub_key(hub), visible
        )
        if as_of is not None:
            latest = latest.where(CurveMarkRow.as_of <= as_of)
        day = session.scalar(latest)
        if day is None:
            return None
        headers = session.execute(
            _headers().where(
                CurveMarkRow.iso == iso_name,
                CurveMarkRow.hub_key == hub_key(hub),
                CurveMarkRow.as_of == day,
                visible,
            )
        ).all()
        own = [h for h in headers if h.owner_key != ""]
        chosen = own or headers
        if version is None:
            mark_id = max(chosen, key=lambda h: h.version).id
        else:
            matching = [h.id for h in chosen if h.version == version]
            if not matching:
                return None
            mark_id = matching[0]
        return _load(session, [mark_id])[0]


def list_curves(
    db: MetadataDatabase, *, tenant: str | None, iso: str | None = None, hub: str | None = None
) -> list[CurveMarkSummary]:
    """Every version of the marks `tenant` sees (its own and the shared ones), newest as_of first.

    Within one as_of the latest version comes first, and a tenant's own
    before the shared ones. `iso` and `hub` (case-insensitive) narrow it.
    """
    query = select(
        CurveMarkRow.id,
        CurveMarkRow.iso,
        CurveMarkRow.hub,
        CurveMarkRow.as_of,
        CurveMarkRow.version,
        CurveMarkRow.owner,
        CurveMarkRow.simulated,
        CurveMarkRow.months,
        CurveMarkRow.created_at,
    ).where(_visible(tenant))
    if iso is not None:
        query = query.where(CurveMarkRow.iso == _iso(iso))
    if hub is not None:
        query = query.where(CurveMarkRow.hub_key == hub_key(hub))
    query = query.order_by(
        CurveMarkRow.as_of.desc(),
        CurveMarkRow.iso,
        CurveMarkRow.hub_key,
        CurveMarkRow.owner_key.desc(),
        CurveMarkRow.version.desc(),
    )
    with db.session() as session:
        return [
            CurveMarkSummary(
                id=row.id,
                iso=row.iso,
                hub=row.hub,
                as_of=row.as_of,
                version=row.version,
                owner=row.owner,
                simulated=row.simulated,
                months=row.months,
                created_at=row.created_at,
            )
            for row in session.execute(query)
        ]


def curve_history(
    db: MetadataDatabase, *, tenant: str | None, iso: str, hub: str, start: date, end: date
) -> list[CurveMark]:
    """One mark per as_of in [start, end), ascending: the tenant's own latest version, else the shared one.

    What risk computes tenor returns from. Days without a mark are simply
    absent.
    """
    if end <= start:
        raise InvalidCurveMark("end", f"history end {end} must be after its start {start}")
    with db.session() as session:
        headers = session.execute(
            _headers().where(
                CurveMarkRow.iso == _iso(iso),
                CurveMarkRow.hub_key == hub_key(hub),
                CurveMarkRow.as_of >= start,
                CurveMarkRow.as_of < end,
                _visible(tenant),
            )
        ).all()
        best: dict[date, tuple[bool, int, int]] = {}
        for h in headers:
            rank = (h.owner_key != "", h.version, h.id)
            if h.as_of not in best or rank > best[h.as_of]:
                best[h.as_of] = rank
        ids = [best[day][2] for day in sorted(best)]
        return _load(session, ids)


# --- checking and preparing -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Prepared:
    owner: str | None
    owner_key: str
    iso: str
    hub: str
    hub_key: str
    curve: MonthlyCurve
    quotes: list[dict[str, Any]]
    implied: list[dict[str, Any]]
    created_by: str


def _prepare(index: int, mark: NewCurveMark) -> _Prepared:
    curve = mark.curve
    where = f"mark {index + 1} ({curve.iso} {curve.hub!r} {curve.as_of})"
    owner = _owner(mark.owner, where)
    hub = curve.hub.strip()
    if not hub or len(hub) > HUB_LENGTH:
        raise InvalidCurveMark("hub", f"{where}: hub must be 1 to {HUB_LENGTH} characters")
    created_by = mark.created_by.strip()
    if not created_by or len(created_by) > SUBJECT_LENGTH:
        raise InvalidCurveMark("created_by", f"{where}: created_by must be 1 to {SUBJECT_LENGTH} characters")
    _check_curve(curve, where)
    return _Prepared(
        owner=owner,
        owner_key=owner or "",
        iso=_iso(curve.iso),
        hub=hub,
        hub_key=hub_key(hub),
        curve=curve,
        quotes=[_quote_json(q, where, "quotes") for q in mark.quotes],
        implied=[
            {**_quote_json(i.quote, where, "implied"), "implied_price": _price(i.implied_price, where)}
            for i in mark.implied
        ],
        created_by=created_by,
    )


def _owner(owner: str | None, where: str) -> str | None:
    if owner is None:
        return None
    cleaned = owner.strip()
    if not TENANT_NAME.match(cleaned) or len(cleaned) > NAME_LENGTH:
        raise InvalidCurveMark("owner", f"{where}: invalid owner {owner!r}: give a tenant name or None")
    return cleaned


def _iso(iso: str) -> str:
    try:
        return Iso(iso.strip().upper()).value
    except ValueError:
        known = ", ".join(i.value for i in Iso)
        raise InvalidCurveMark("iso", f"unknown ISO {iso!r}; expected one of {known}") from None


def _check_curve(curve: MonthlyCurve, where: str) -> None:
    months = curve.months
    if not months:
        raise InvalidCurveMark("months", f"{where}: the curve has no months")
    for i, month in enumerate(months):
        if month.day != 1:
            raise InvalidCurveMark("months", f"{where}: month {month} is not a first of month")
        if i and month != _next_month(months[i - 1]):
            raise InvalidCurveMark(
                "months", f"{where}: months must be consecutive; {months[i - 1]} is followed by {month}"
            )
    if not curve.blocks or len(set(curve.blocks)) != len(curve.blocks):
        raise InvalidCurveMark("blocks", f"{where}: blocks must be given, each once: {curve.blocks}")
    shape = (len(months), len(curve.blocks))
    prices = np.asarray(curve.prices)
    hours = np.asarray(curve.hours)
    if prices.shape != shape:
        raise InvalidCurveMark("prices", f"{where}: prices have shape {prices.shape}, expected {shape}")
    if hours.shape != shape:
        raise InvalidCurveMark("hours", f"{where}: hours have shape {hours.shape}, expected {shape}")
    bad = np.argwhere(~np.isfinite(prices.astype(np.float64)))
    if bad.size:
        i, j = bad[0]
        raise InvalidCurveMark(
            "prices", f"{where}: price of {months[i]:%Y-%m} {curve.blocks[j].value} is not finite"
        )
    if np.any(hours < 0):
        raise InvalidCurveMark("hours", f"{where}: hours must not be negative")


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _price(value: float, where: str) -> float:
    price = float(value)
    if not math.isfinite(price):
        raise InvalidCurveMark("implied", f"{where}: implied price {value!r} is not finite")
    return price


def _quote_json(quote: Quote, where: str, field: str) -> dict[str, Any]:
    if not math.isfinite(quote.price):
        raise InvalidCurveMark(field, f"{where}: quote {quote.name} has a price that is not finite")
    contract = quote.contract
    return {
        "start": contract.start.isoformat(),
        "end": contract.end.isoformat(),
        "block": contract.block.value,
        "kind": contract.kind.value,
        "label": contract.label,
        "price": float(quote.price),
        "line": quote.line,
    }


def _quote(data: dict[str, Any]) -> Quote:
    contract = Contract(
        start=date.fromisoformat(data["start"]),
        end=date.fromisoformat(data["end"]),
        block=Block(data["block"]),
        kind=ContractKind(data["kind"]),
        label=data["label"],
    )
    return Quote(contract=contract, price=float(data["price"]), line=data["line"])


# --- storage --------------------------------------------------------------------------------


def _insert(db: MetadataDatabase, prepared: list[_Prepared]) -> list[CurveMark]:
    now = datetime.now(UTC)
    with db.session(write=True) as session:
        next_version = _next_versions(session, prepared)
        mark_rows: list[CurveMarkRow] = []
        for p in prepared:
            key = (p.iso, p.hub_key, p.curve.as_of, p.owner_key)
            version = next_version[key]
            next_version[key] = version + 1
            mark_rows.append(
                CurveMarkRow(
                    iso=p.iso,
                    hub=p.hub,
                    hub_key=p.hub_key,
                    as_of=p.curve.as_of,
                    owner=p.owner,
                    owner_key=p.owner_key,
                    version=version,
                    simulated=bool(p.curve.simulated),
                    created_at=now,
                    created_by=p.created_by,
                    quoted_through=p.curve.quoted_through,
                    blocks=[b.value for b in p.curve.blocks],
                    months=len(p.curve.months),
                    quotes=p.quotes,
                    implied=p.implied,
                )
            )
        ids = list(
            session.scalars(
                insert(CurveMarkRow).returning(CurveMarkRow.id, sort_by_parameter_order=True),
                [_columns(row) for row in mark_rows],
            )
        )
        point_rows: list[dict[str, Any]] = []
        for mark_id, p in zip(ids, prepared, strict=True):
            prices = np.asarray(p.curve.prices, dtype=np.float64).tolist()
            hours = np.asarray(p.curve.hours, dtype=np.int64).tolist()
            for i, month in enumerate(p.curve.months):
                for j, block in enumerate(p.curve.blocks):
                    point_rows.append(
                        {
                            "mark_id": mark_id,
                            "month": month,
                            "block": block.value,
                            "price": prices[i][j],
                            "hours": hours[i][j],
                        }
                    )
        session.execute(insert(CurvePointRow), point_rows)
        return [
            _mark(mark_id, row, p.curve) for mark_id, row, p in zip(ids, mark_rows, prepared, strict=True)
        ]


def _columns(row: CurveMarkRow) -> dict[str, Any]:
    """A transient row's column values, as a multi-row INSERT takes them."""
    return {c.key: getattr(row, c.key) for c in CurveMarkRow.__table__.columns if c.key != "id"}


def _next_versions(session: Session, prepared: list[_Prepared]) -> dict[tuple[str, str, date, str], int]:
    keys = {(p.iso, p.hub_key, p.curve.as_of, p.owner_key) for p in prepared}
    days = [k[2] for k in keys]
    query = (
        select(
            CurveMarkRow.iso,
            CurveMarkRow.hub_key,
            CurveMarkRow.as_of,
            CurveMarkRow.owner_key,
            func.max(CurveMarkRow.version),
        )
        .where(
            CurveMarkRow.iso.in_({k[0] for k in keys}),
            CurveMarkRow.hub_key.in_({k[1] for k in keys}),
            CurveMarkRow.as_of >= min(days),
            CurveMarkRow.as_of <= max(days),
            CurveMarkRow.owner_key.in_({k[3] for k in keys}),
        )
        .group_by(CurveMarkRow.iso, CurveMarkRow.hub_key, CurveMarkRow.as_of, CurveMarkRow.owner_key)
    )
    versions = dict.fromkeys(keys, 1)
    for iso, hub, as_of, owner_key, latest in session.execute(query):
        key = (iso, hub, as_of, owner_key)
        if key in versions:
            versions[key] = int(latest) + 1
    return versions


def _visible(tenant: str | None) -> ColumnElement[bool]:
    if tenant is None:
        return CurveMarkRow.owner_key == ""
    return or_(CurveMarkRow.owner_key == "", CurveMarkRow.owner_key == tenant.strip())


def _headers() -> Select[int, date, str, int]:
    return select(CurveMarkRow.id, CurveMarkRow.as_of, CurveMarkRow.owner_key, CurveMarkRow.version)


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for i in range(0, len(ids), ID_CHUNK):
        yield ids[i : i + ID_CHUNK]


def _load(session: Session, ids: Sequence[int]) -> list[CurveMark]:
    """The marks with these ids, in this order, with their points (two queries per chunk of ids)."""
    rows: dict[int, CurveMarkRow] = {}
    points: dict[int, list[tuple[date, str, float, int]]] = defaultdict(list)
    for chunk in _chunks(ids):
        for row in session.scalars(select(CurveMarkRow).where(CurveMarkRow.id.in_(chunk))):
            rows[row.id] = row
        query = select(
            CurvePointRow.mark_id,
            CurvePointRow.month,
            CurvePointRow.block,
            CurvePointRow.price,
            CurvePointRow.hours,
        ).where(CurvePointRow.mark_id.in_(chunk))
        for mark_id, month, block, price, hours in session.execute(query):
            points[mark_id].append((month, block, price, hours))
    marks: list[CurveMark] = []
    for mark_id in ids:
        row = rows[mark_id]
        curve = _rebuild(row, points[mark_id])
        marks.append(_mark(mark_id, row, curve))
    return marks


def _rebuild(row: CurveMarkRow, points: list[tuple[date, str, float, int]]) -> MonthlyCurve:
    blocks = tuple(Block(b) for b in row.blocks)
    months = tuple(sorted({p[0] for p in points}))
    if len(months) != row.months or len(points) != len(months) * len(blocks):
        raise MetadataError(
            f"curve mark {row.id} is incomplete: {len(points)} points for {row.months} months "
            f"of {len(blocks)} blocks"
        )
    month_index = {m: i for i, m in enumerate(months)}
    block_index = {b.value: j for j, b in enumerate(blocks)}
    prices = np.empty((len(months), len(blocks)), dtype=np.float64)
    hours = np.empty((len(months), len(blocks)), dtype=np.int64)
    for month, block, price, count in points:
        prices[month_index[month], block_index[block]] = price
        hours[month_index[month], block_index[block]] = count
    return MonthlyCurve(
        iso=row.iso,
        hub=row.hub,
        as_of=row.as_of,
        months=months,
        blocks=blocks,
        prices=prices,
        hours=hours,
        quoted_through=row.quoted_through,
        simulated=row.simulated,
    )


def _mark(
    mark_id: int,
    row: CurveMarkRow,
    curve: MonthlyCurve,
) -> CurveMark:
    return CurveMark(
        id=mark_id,
        owner=row.owner,
        version=row.version,
        created_at=row.created_at,
        created_by=row.created_by,
        curve=curve,
        quotes=tuple(_quote(q) for q in row.quotes),
        implied=tuple(ImpliedPrice(_quote(i), float(i["implied_price"])) for i in row.implied),
    )
