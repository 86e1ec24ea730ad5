"""Risk portfolios on SQLite and PostgreSQL: versions, case-insensitive names, tenants kept apart."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from carbon254.metadata import MetadataDatabase
from carbon254.metadata.portfolios import (
    InvalidPortfolio,
    UnknownPortfolio,
    get_portfolio,
    list_portfolios,
    save_portfolio,
)

CSV = (
    "id,book,kind,iso,location,block,start,end,mw\n"
    "f1,Power,forward,ERCOT,HB_NORTH,onpeak,2027-01,2027-03,10\n"
)


def tenant() -> str:
    return f"tenant-{uuid.uuid4().hex[:8]}"


def test_saving_again_adds_versions_and_reads_pick_one(db: MetadataDatabase) -> None:
    owner = tenant()
    first = save_portfolio(db, owner=owner, name="East Book", csv=CSV, positions=1, created_by="me")
    second = save_portfolio(db, owner=owner, name="east book", csv=CSV + "x", positions=2, created_by="me")
    assert (first.version, second.version) == (1, 2)
    assert second.name == "East Book"  # the name as first given
    assert first.digest == hashlib.sha256(CSV.encode()).hexdigest()
    latest = get_portfolio(db, owner=owner, name="EAST BOOK")
    assert (latest.version, latest.positions, latest.csv) == (2, 2, CSV + "x")
    assert get_portfolio(db, owner=owner, name="east book", version=1).csv == CSV
    assert latest.created_at.tzinfo is not None
    with pytest.raises(UnknownPortfolio, match="version 3"):
        get_portfolio(db, owner=owner, name="east book", version=3)


def test_listing_shows_each_name_at_its_latest_version_for_its_owner_only(db: MetadataDatabase) -> None:
    owner, other = tenant(), tenant()
    for name in ("b", "a", "b"):
        save_portfolio(db, owner=owner, name=name, csv=CSV, positions=1, created_by="me")
    save_portfolio(db, owner=other, name="c", csv=CSV, positions=1, created_by="me")
    assert [(r.name, r.version) for r in list_portfolios(db, owner=owner)] == [("a", 1), ("b", 2)]
    with pytest.raises(UnknownPortfolio):
        get_portfolio(db, owner=other, name="a")


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("name", {"name": "../x"}),
        ("name", {"name": " "}),
        ("csv", {"csv": "  \n"}),
        ("positions", {"positions": 0}),
        ("owner", {"owner": "not a tenant!"}),
    ],
)
def test_bad_portfolios_are_refused_naming_the_field(
    db: MetadataDatabase, field: str, kwargs: dict[str, object]
) -> None:
    given = {"owner": tenant(), "name": "ok", "csv": CSV, "positions": 1, "created_by": "me"} | kwargs
    with pytest.raises(InvalidPortfolio) as refused:
        save_portfolio(db, **given)
    assert refused.value.field == field
    assert list_portfolios(db, owner=given["owner"]) == []
