"""Curve marks on SQLite and PostgreSQL: round trips, versions, as_of lookups, history, atomic saves."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from carbon254.curves.model import Contract, ContractKind, MonthlyCurve, Quote
from carbon254.metadata import MetadataDatabase
from carbon254.metadata import curves as curves_module
from carbon254.metadata.curves import (
    CurveMark,
    ImpliedPrice,
    InvalidCurveMark,
    NewCurveMark,
    curve_history,
    find_curve,
    list_curves,
    save_curve,
    save_curves,
)
from carbon254.metadata.models import CurveMarkRow, CurvePointRow
from carbon254.timeseries.periods import Block

AS_OF = date(2026, 6, 15)


def unique_hub() -> str:
    return f"Hub {uuid.uuid4().hex[:8]}"


def unique_tenant() -> str:
    return f"tenant-{uuid.uuid4().hex[:8]}"


def curve(hub: str, as_of: date = AS_OF, *, shift: float = 0.0, iso: str = "ERCOT") -> MonthlyCurve:
    """Three months of onpeak and offpeak: hand-written prices ($/MWh) and delivery hours."""
    prices = np.array([[55.25, 30.5], [91.125, 38.0], [88.0, 36.75]]) + shift
    hours = np.array([[352, 368], [368, 376], [336, 408]], dtype=np.int64)
    return MonthlyCurve(
        iso=iso,
        hub=hub,
        as_of=as_of,
        months=(date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)),
        blocks=(Block.ONPEAK, Block.OFFPEAK),
        prices=prices,
        hours=hours,
        quoted_through=date(2026, 9, 1),
    )


QUOTES = (
    Quote(Contract(date(2026, 7, 1), date(2026, 8, 1), Block.ONPEAK, ContractKind.MONTH, "Jul26"), 55.25, 3),
    Quote(Contract(date(2026, 8, 1), date(2026, 9, 1), Block.OFFPEAK), 38.0),
)
IMPLIED = (
    ImpliedPrice(
        Quote(
            Contract(date(2026, 7, 1), date(2026, 10, 1), Block.ONPEAK, ContractKind.QUARTER, "Q3 26"), 78.0
        ),
        77.9731,
    ),
)


def save(
    db: MetadataDatabase, hub: str, owner: str | None = None, *, as_of: date = AS_OF, shift: float = 0.0
) -> CurveMark:
    return save_curve(
        db,
        owner=owner,
        curve=curve(hub, as_of, shift=shift),
        quotes=QUOTES,
        implied=IMPLIED,
        created_by="trader@example.com",
    )


def assert_same_curve(out: MonthlyCurve, expected: MonthlyCurve) -> None:
    assert (out.iso, out.hub, out.as_of) == (expected.iso, expected.hub, expected.as_of)
    assert out.months == expected.months
    assert out.blocks == expected.blocks
    assert out.quoted_through == expected.quoted_through
    assert out.simulated == expected.simulated
    assert out.prices.dtype == np.float64
    assert out.hours.dtype == np.int64
    np.testing.assert_array_equal(out.prices, expected.prices)
    np.testing.assert_array_equal(out.hours, expected.hours)


def test_round_trip_rebuilds_the_curve_exactly(db: MetadataDatabase) -> None:
    hub = unique_hub()
    original = replace(curve(hub), prices=np.array([[55.1 / 3, 30.5], [1e-7, -12.25], [2999.99, 0.1 + 0.2]]))
    saved = save_curve(db, owner=None, curve=original, quotes=QUOTES, implied=IMPLIED, created_by="me")
    assert saved.version == 1 and saved.owner is None
    assert saved.created_at.tzinfo is not None
    found = find_curve(db, tenant=None, iso="ercot", hub=hub.upper(), as_of=AS_OF)
    assert found is not None
    assert found.id == saved.id
    assert_same_curve(found.curve, original)
    assert found.quotes == QUOTES
    assert found.implied == IMPLIED
    assert found.created_by == "me"
    assert found.created_at == saved.created_at
    assert (found.iso, found.hub, found.as_of, found.simulated) == ("ERCOT", hub, AS_OF, False)


def test_block_order_and_simulated_flag_survive(db: MetadataDatabase) -> None:
    hub = unique_hub()
    original = replace(
        curve(hub),
        blocks=(Block.OFFPEAK, Block.ATC),
        simulated=True,
    )
    save_curve(db, owner=None, curve=original, quotes=(), implied=(), created_by="demo")
    found = find_curve(db, tenant=None, iso="ERCOT", hub=hub)
    assert found is not None
    assert_same_curve(found.curve, original)
    assert found.quotes == () and found.implied == ()


def test_remark_adds_a_version_and_keeps_the_first(db: MetadataDatabase) -> None:
    hub = unique_hub()
    first = save(db, hub)
    second = save_curve(
        db, owner=None, curve=curve(hub.lower(), shift=1.5), quotes=QUOTES, implied=(), created_by="x"
    )
    assert second.version == 2
    latest = find_curve(db, tenant=None, iso="ERCOT", hub=hub)
    assert latest is not None and latest.version == 2
    assert latest.curve.price(date(2026, 7, 1), Block.ONPEAK) == 56.75
    v1 = find_curve(db, tenant=None, iso="ERCOT", hub=hub, version=1)
    assert v1 is not None and v1.id == first.id
    assert v1.curve.price(date(2026, 7, 1), Block.ONPEAK) == 55.25
    assert find_curve(db, tenant=None, iso="ERCOT", hub=hub, version=3) is None


def test_as_of_picks_the_greatest_mark_not_after_it(db: MetadataDatabase) -> None:
    hub = unique_hub()
    for day, shift in ((date(2026, 6, 10), 0.0), (date(2026, 6, 12), 1.0), (date(2026, 6, 15), 2.0)):
        save(db, hub, as_of=day, shift=shift)

    def as_of(day: date | None) -> date | None:
        found = find_curve(db, tenant=None, iso="ERCOT", hub=hub, as_of=day)
        return None if found is None else found.as_of

    assert as_of(date(2026, 6, 9)) is None
    assert as_of(date(2026, 6, 10)) == date(2026, 6, 10)
    assert as_of(date(2026, 6, 11)) == date(2026, 6, 10)
    assert as_of(date(2026, 6, 14)) == date(2026, 6, 12)
    assert as_of(date(2027, 1, 1)) == date(2026, 6, 15)
    assert as_of(None) == date(2026, 6, 15)
    assert find_curve(db, tenant=None, iso="PJM", hub=hub) is None


def test_own_marks_come_before_shared_ones_of_the_same_day(db: MetadataDatabase) -> None:
    hub = unique_hub()
    tenant, other = unique_tenant(), unique_tenant()
    save(db, hub, as_of=date(2026, 6, 10))
    save(db, hub, as_of=date(2026, 6, 10), shift=5.0)  # shared version 2
    own = save(db, hub, owner=tenant, as_of=date(2026, 6, 10), shift=10.0)
    save(db, hub, as_of=date(2026, 6, 11), shift=20.0)
    save(db, hub, owner=other, as_of=date(2026, 6, 12), shift=30.0)

    mine = find_curve(db, tenant=tenant, iso="ERCOT", hub=hub, as_of=date(2026, 6, 10))
    assert mine is not None and mine.id == own.id
    assert (mine.owner, mine.version) == (tenant, 1)
    shared = find_curve(db, tenant=None, iso="ERCOT", hub=hub, as_of=date(2026, 6, 10))
    assert shared is not None and (shared.owner, shared.version) == (None, 2)
    # A later shared mark beats an older own one; another tenant's marks are never seen.
    later = find_curve(db, tenant=tenant, iso="ERCOT", hub=hub)
    assert later is not None and (later.as_of, later.owner) == (date(2026, 6, 11), None)
    theirs = find_curve(db, tenant=other, iso="ERCOT", hub=hub)
    assert theirs is not None and theirs.owner == other


def test_owners_version_independently(db: MetadataDatabase) -> None:
    hub = unique_hub()
    tenant = unique_tenant()
    assert save(db, hub).version == 1
    assert save(db, hub, owner=tenant).version == 1
    assert save(db, hub, owner=tenant).version == 2
    assert save(db, hub).version == 2


def test_list_is_newest_first_and_only_what_the_tenant_sees(db: MetadataDatabase) -> None:
    hub = unique_hub()
    tenant = unique_tenant()
    save(db, hub, as_of=date(2026, 6, 10))
    save(db, hub, owner=tenant, as_of=date(2026, 6, 11))
    save(db, hub, owner=tenant, as_of=date(2026, 6, 11))
    save(db, hub, owner=unique_tenant(), as_of=date(2026, 6, 12))
    rows = list_curves(db, tenant=tenant, iso="ercot", hub=hub.swapcase())
    assert [(r.as_of, r.owner, r.version) for r in rows] == [
        (date(2026, 6, 11), tenant, 2),
        (date(2026, 6, 11), tenant, 1),
        (date(2026, 6, 10), None, 1),
    ]
    assert all(r.months == 3 and r.hub == hub and r.iso == "ERCOT" and not r.simulated for r in rows)
    assert [r.as_of for r in list_curves(db, tenant=None, hub=hub)] == [date(2026, 6, 10)]


def test_history_has_one_mark_per_day_ascending(db: MetadataDatabase) -> None:
    hub = unique_hub()
    tenant = unique_tenant()
    start = date(2026, 6, 1)
    for offset in (4, 0, 2, 7):  # saved out of order; day 7 is past the end
        save(db, hub, as_of=start + timedelta(days=offset), shift=offset)
    save(db, hub, as_of=start + timedelta(days=2), shift=100.0)  # shared version 2 of day 2
    save(db, hub, owner=tenant, as_of=start, shift=50.0)  # own mark of day 0
    history = curve_history(
        db, tenant=tenant, iso="ERCOT", hub=hub, start=start, end=start + timedelta(days=7)
    )
    assert [(m.as_of, m.owner, m.version) for m in history] == [
        (start, tenant, 1),
        (start + timedelta(days=2), None, 2),
        (start + timedelta(days=4), None, 1),
    ]
    assert [m.curve.price(date(2026, 7, 1), Block.ONPEAK) for m in history] == [105.25, 155.25, 59.25]
    shared = curve_history(db, tenant=None, iso="ERCOT", hub=hub, start=start, end=start + timedelta(days=8))
    assert [m.curve.prices[0, 0] for m in shared] == [55.25, 155.25, 59.25, 62.25]
    with pytest.raises(InvalidCurveMark, match="after its start"):
        curve_history(db, tenant=None, iso="ERCOT", hub=hub, start=start, end=start)


def test_bulk_save_versions_in_order_and_returns_marks_in_order(db: MetadataDatabase) -> None:
    hubs = [unique_hub() for _ in range(3)]
    days = [date(2026, 5, 1) + timedelta(days=d) for d in range(20)]
    marks = [
        NewCurveMark(
            owner=None,
            curve=replace(curve(h, day), simulated=True),
            quotes=QUOTES,
            implied=(),
            created_by="demo",
        )
        for day in days
        for h in hubs
    ]
    marks.append(
        NewCurveMark(
            owner=None, curve=curve(hubs[0], days[0], shift=1.0), quotes=(), implied=(), created_by="demo"
        )
    )
    saved = save_curves(db, marks)
    assert len(saved) == len(marks)
    assert [(m.hub, m.as_of) for m in saved] == [(m.curve.hub, m.curve.as_of) for m in marks]
    assert {m.version for m in saved[:-1]} == {1}
    assert saved[-1].version == 2
    assert len({m.id for m in saved}) == len(saved)
    history = curve_history(
        db, tenant=None, iso="ERCOT", hub=hubs[1], start=days[0], end=days[-1] + timedelta(days=1)
    )
    assert [m.as_of for m in history] == days
    assert all(m.simulated for m in history)
    assert save_curves(db, []) == []


def test_failing_save_leaves_nothing(db: MetadataDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    hub = unique_hub()
    good = NewCurveMark(owner=None, curve=curve(hub), quotes=QUOTES, implied=(), created_by="me")
    # Valid to the checks, refused by the database: points of one month and block twice.
    duplicated = replace(
        curve(hub, date(2026, 6, 16)),
        months=(date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)),
        blocks=(Block.ONPEAK, Block.OFFPEAK),
    )
    object.__setattr__(duplicated, "blocks", (Block.ONPEAK, Block.ONPEAK))
    with db.session() as session:
        before = (
            session.scalar(select(func.count()).select_from(CurveMarkRow)),
            session.scalar(select(func.count()).select_from(CurvePointRow)),
        )
    with pytest.raises(InvalidCurveMark, match="each once"):
        save_curves(db, [good, NewCurveMark(None, duplicated, (), (), "me")])
    # Bypass the checks to make the database itself fail mid-transaction (after the marks are in).
    monkeypatch.setattr(curves_module, "_check_curve", lambda curve, where: None)
    with pytest.raises(IntegrityError, match=r"(?i)unique|duplicate"):
        save_curves(db, [good, NewCurveMark(None, duplicated, (), (), "me")])
    with db.session() as session:
        after = (
            session.scalar(select(func.count()).select_from(CurveMarkRow)),
            session.scalar(select(func.count()).select_from(CurvePointRow)),
        )
    assert after == before
    assert find_curve(db, tenant=None, iso="ERCOT", hub=hub) is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"hub": "  "}, "hub"),
        ({"iso": "ERCOTT"}, "iso"),
        ({"months": (date(2026, 7, 1), date(2026, 9, 1), date(2026, 10, 1))}, "months"),
        ({"months": (date(2026, 7, 2), date(2026, 8, 2), date(2026, 9, 2))}, "months"),
        ({"months": ()}, "months"),
        ({"prices": np.array([[1.0, 2.0]])}, "prices"),
        ({"prices": np.array([[1.0, 2.0], [np.nan, 1.0], [1.0, 1.0]])}, "prices"),
        ({"hours": np.array([[1, 2], [3, -4], [5, 6]], dtype=np.int64)}, "hours"),
    ],
)
def test_malformed_curves_are_refused_by_field(
    db: MetadataDatabase, change: dict[str, object], field: str
) -> None:
    bad = replace(curve(unique_hub()), **change)  # type: ignore[arg-type]
    with pytest.raises(InvalidCurveMark) as error:
        save_curve(db, owner=None, curve=bad, quotes=(), implied=(), created_by="me")
    assert error.value.field == field
    assert isinstance(error.value, ValueError)


def test_bad_owner_subject_and_quote_are_refused(db: MetadataDatabase) -> None:
    hub = unique_hub()
    with pytest.raises(InvalidCurveMark, match="owner"):
        save_curve(db, owner="has space", curve=curve(hub), quotes=(), implied=(), created_by="me")
    with pytest.raises(InvalidCurveMark, match="created_by"):
        save_curve(db, owner=None, curve=curve(hub), quotes=(), implied=(), created_by=" ")
    nan_quote = Quote(QUOTES[0].contract, float("nan"), 7)
    with pytest.raises(InvalidCurveMark, match="line 7"):
        save_curve(db, owner=None, curve=curve(hub), quotes=(nan_quote,), implied=(), created_by="me")
    assert find_curve(db, tenant=None, iso="ERCOT", hub=hub) is None


def test_created_at_is_utc(db: MetadataDatabase) -> None:
    before = datetime.now(UTC)
    mark = save(db, unique_hub())
    assert before <= mark.created_at <= datetime.now(UTC)
