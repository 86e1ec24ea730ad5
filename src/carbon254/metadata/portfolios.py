"""Risk portfolios: a tenant's position files, saved by name, each save a new version.

A portfolio is stored as the position file it was checked from (CSV text in
the columns of `carbon254.risk.position_file`) with its number of positions
and the SHA-256 of the text. Saving a name again adds a version; earlier
versions are kept and never updated, so a VaR of version 3 can be re-run
after version 4 is saved. Names are matched case-insensitively and kept as
first given. Checking the positions is the caller's job (the application
layer parses the file before saving), so a malformed file never gets here.
`created_at` is UTC.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from carbon254.metadata.database import MetadataDatabase
from carbon254.metadata.errors import MetadataError
from carbon254.metadata.models import NAME_LENGTH, PortfolioRow
from carbon254.metadata.tenants import TENANT_NAME

PORTFOLIO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")
# A concurrent saver on PostgreSQL may take the same next version; the unique constraint refuses
# the loser, which recounts (SQLite serialises writers).
VERSION_ATTEMPTS = 5


class InvalidPortfolio(MetadataError, ValueError):
    """A portfolio that cannot be stored; `field` names the offending part (`name`, `csv`, ...)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class UnknownPortfolio(MetadataError, LookupError):
    """No saved portfolio (or version) of that name for the tenant (404)."""


@dataclass(frozen=True, slots=True)
class PortfolioRecord:
    """One saved version of a portfolio: the position file as CSV text, its position count and digest."""

    owner: str
    name: str
    version: int
    positions: int
    csv: str
    digest: str
    created_at: datetime
    created_by: str


def portfolio_name(name: str) -> str:
    """`name` trimmed and checked: 1-100 letters, digits, spaces, '.', '_' or '-', first a letter or digit.

    Raises `InvalidPortfolio` naming `name` otherwise.
    """
    cleaned = name.strip()
    if not cleaned or len(cleaned) > NAME_LENGTH or not PORTFOLIO_NAME.match(cleaned):
        raise InvalidPortfolio(
            "name",
            f"name: {name!r} must be 1 to {NAME_LENGTH} letters, digits, spaces, '.', '_' or '-' "
            "starting with a letter or digit",
        )
    return cleaned


def save_portfolio(
    db: MetadataDatabase, *, owner: str, name: str, csv: str, positions: int, created_by: str
) -> PortfolioRecord:
    """Store `csv` (a checked position file) as the next version of `owner`'s portfolio `name`.

    `positions` is how many positions the file holds (at least one).
    Raises `InvalidPortfolio` naming the field for a bad owner, name, empty
    text, position count or subject.
    """
    tenant = owner.strip()
    if not TENANT_NAME.match(tenant) or len(tenant) > NAME_LENGTH:
        raise InvalidPortfolio("owner", f"owner: {owner!r} is not a tenant name")
    checked = portfolio_name(name)
    if not csv.strip():
        raise InvalidPortfolio("csv", "csv: the position file is empty")
    if positions < 1:
        raise InvalidPortfolio("positions", f"positions: a portfolio needs at least one, got {positions}")
    by = created_by.strip()
    if not by or len(by) > 200:
        raise InvalidPortfolio("created_by", "created_by must be 1 to 200 characters")
    digest = hashlib.sha256(csv.encode()).hexdigest()
    attempt = 1
    while True:
        try:
            with db.session(write=True) as session:
                latest = session.scalar(
                    select(func.max(PortfolioRow.version)).where(
                        PortfolioRow.owner == tenant, PortfolioRow.name_key == checked.casefold()
                    )
                )
                first = session.scalar(
                    select(PortfolioRow.name)
                    .where(PortfolioRow.owner == tenant, PortfolioRow.name_key == checked.casefold())
                    .order_by(PortfolioRow.version)
                    .limit(1)
                )
                row = PortfolioRow(
                    owner=tenant,
                    name=first or checked,
                    name_key=checked.casefold(),
                    version=(latest or 0) + 1,
                    positions=positions,
                    csv=csv,
                    digest=digest,
                    created_at=datetime.now(UTC),
                    created_by=by,
                )
                session.add(row)
                session.flush()
                return _record(row)
        except IntegrityError as error:
            if attempt >= VERSION_ATTEMPTS or "uq_risk_portfolios_version" not in str(error.orig):
                raise
            attempt += 1


def get_portfolio(
    db: MetadataDatabase, *, owner: str, name: str, version: int | None = None
) -> PortfolioRecord:
    """`owner`'s portfolio `name` at `version` (None: the latest); `UnknownPortfolio` when there is none."""
    query = select(PortfolioRow).where(
        PortfolioRow.owner == owner.strip(), PortfolioRow.name_key == name.strip().casefold()
    )
    if version is not None:
        query = query.where(PortfolioRow.version == version)
    with db.session() as session:
        row = session.scalars(query.order_by(PortfolioRow.version.desc()).limit(1)).first()
        if row is None:
            which = f" version {version}" if version is not None else ""
            raise UnknownPortfolio(f"no portfolio {name.strip()!r}{which} for tenant {owner.strip()!r}")
        return _record(row)


def list_portfolios(db: MetadataDatabase, *, owner: str) -> list[PortfolioRecord]:
    """The latest version of each of `owner`'s portfolios, by name (case-insensitive order)."""
    latest = (
        select(PortfolioRow.name_key, func.max(PortfolioRow.version).label("version"))
        .where(PortfolioRow.owner == owner.strip())
        .group_by(PortfolioRow.name_key)
        .subquery()
    )
    query = (
        select(PortfolioRow)
        .join(
            latest,
            (PortfolioRow.name_key == latest.c.name_key) & (PortfolioRow.version == latest.c.version),
        )
        .where(PortfolioRow.owner == owner.strip())
        .order_by(PortfolioRow.name_key)
    )
    with db.session() as session:
        return [_record(row) for row in session.scalars(query)]


def _record(row: PortfolioRow) -> PortfolioRecord:
    return PortfolioRecord(
        owner=row.owner,
        name=row.name,
        version=row.version,
        positions=row.positions,
        csv=row.csv,
        digest=row.digest,
        created_at=row.created_at,
        created_by=row.created_by,
    )
