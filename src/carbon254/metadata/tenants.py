"""Tenants and their entitlements: which ISOs, datasets and analytics features each may use.

An entitlement list of None means "all of them", including ISOs and datasets
added later; an empty list means none. Names are checked here, once, for
every surface (CLI, admin API): ISOs against `carbon254.isos`, datasets
against `carbon254.schema`, features by shape (the analytics domains are
still being added, so there is no closed list to check them against yet).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from carbon254.isos import Iso
from carbon254.metadata.credentials import bump_credentials_version
from carbon254.metadata.database import MetadataDatabase
from carbon254.metadata.errors import InvalidEntitlement, TenantExists, UnknownTenant
from carbon254.metadata.models import NAME_LENGTH, Tenant
from carbon254.names import close_matches
from carbon254.schema import Dataset

TENANT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
FEATURE_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


@dataclass(frozen=True, slots=True)
class TenantRecord:
    """A tenant as stored: entitlement tuples are sorted; None means every ISO/dataset/feature.

    `job_retention_s` is how long (seconds) its jobs' artifacts are kept after
    they finish; None means the service's `CARBON254_JOB_RETENTION_S`.
    """

    name: str
    admin: bool
    isos: tuple[str, ...] | None
    datasets: tuple[str, ...] | None
    features: tuple[str, ...] | None
    created_at: datetime
    job_retention_s: float | None = None


@dataclass(frozen=True, slots=True)
class Entitlement:
    """Validated entitlement lists, ready to store (None = all)."""

    isos: list[str] | None
    datasets: list[str] | None
    features: list[str] | None


def _check_name(name: str) -> str:
    cleaned = name.strip()
    if not TENANT_NAME.match(cleaned) or len(cleaned) > NAME_LENGTH:
        raise InvalidEntitlement(
            "name",
            f"invalid tenant name {name!r}: use letters, digits, '.', '_' or '-' "
            f"(starting with a letter or digit), at most {NAME_LENGTH} characters",
        )
    return cleaned


def _resolve(field: str, what: str, names: Iterable[str], known: list[str], fold: str) -> list[str]:
    resolved: set[str] = set()
    by_folded = {k.casefold(): k for k in known}
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        found = by_folded.get(name.casefold())
        if found is None:
            suggestions = close_matches(name, known) or known
            raise InvalidEntitlement(
                field, f"unknown {what} {name!r} in {field}; known: {', '.join(known)}", suggestions
            )
        resolved.add(found.upper() if fold == "upper" else found.lower())
    return sorted(resolved)


def normalize_entitlements(
    isos: Iterable[str] | None, datasets: Iterable[str] | None, features: Iterable[str] | None
) -> Entitlement:
    """Validate entitlement names: ISOs upper-cased, datasets and features lower-cased, sorted, unique.

    Raises `InvalidEntitlement` naming the field and the unknown name, with
    close matches. None stays None (all); an empty iterable means none.
    """
    iso_list = None if isos is None else _resolve("isos", "ISO", isos, [i.value for i in Iso], "upper")
    dataset_list = (
        None
        if datasets is None
        else _resolve("datasets", "dataset", datasets, [d.value for d in Dataset], "lower")
    )
    feature_list: list[str] | None = None
    if features is not None:
        cleaned = {f.strip().lower() for f in features if f.strip()}
        for feature in sorted(cleaned):
            if not FEATURE_NAME.match(feature):
                raise InvalidEntitlement(
                    "features",
                    f"invalid feature name {feature!r}: use lower-case letters, digits, '_' or '-'",
                )
        feature_list = sorted(cleaned)
    return Entitlement(iso_list, dataset_list, feature_list)


def entitlement_tuple(values: list[str] | None) -> tuple[str, ...] | None:
    """A stored entitlement list as the record's sorted tuple (None stays 'everything')."""
    return None if values is None else tuple(sorted(values))


def tenant_record(tenant: Tenant) -> TenantRecord:
    """The typed, detached view of a tenant row."""
    return TenantRecord(
        name=tenant.name,
        admin=tenant.admin,
        isos=entitlement_tuple(tenant.isos),
        datasets=entitlement_tuple(tenant.datasets),
        features=entitlement_tuple(tenant.features),
        created_at=tenant.created_at,
        job_retention_s=tenant.job_retention_s,
    )


def check_retention(seconds: float | None) -> float | None:
    """A retention period (seconds) as stored: positive and finite; None (the default) stays None.

    Raises `InvalidEntitlement` naming `job_retention_s` otherwise.
    """
    if seconds is None:
        return None
    if not math.isfinite(seconds) or seconds <= 0:
        raise InvalidEntitlement(
            "job_retention_s", f"invalid job retention {seconds!r}: give a positive number of seconds"
        )
    return float(seconds)


def create_tenant(
    db: MetadataDatabase,
    name: str,
    *,
    isos: Iterable[str] | None = None,
    datasets: Iterable[str] | None = None,
    features: Iterable[str] | None = None,
    admin: bool = False,
    job_retention_s: float | None = None,
) -> TenantRecord:
    """Create a tenant with these entitlements (None = all); `TenantExists` if the name is taken.

    `job_retention_s` overrides the service's artifact retention for it
    (seconds; None: the default). Raises `InvalidEntitlement` for a malformed
    name, an unknown ISO/dataset or a retention that is not positive.
    """
    checked = _check_name(name)
    entitled = normalize_entitlements(isos, datasets, features)
    retention = check_retention(job_retention_s)
    tenant = Tenant(
        name=checked,
        admin=admin,
        isos=entitled.isos,
        datasets=entitled.datasets,
        features=entitled.features,
        created_at=datetime.now(UTC),
        job_retention_s=retention,
    )
    try:
        with db.session(write=True) as session:
            if session.scalar(select(Tenant.id).where(Tenant.name == checked)) is not None:
                raise TenantExists(f"tenant {checked!r} already exists")
            session.add(tenant)
    except IntegrityError:
        # Two creators raced past the check above; the unique index decided.
        raise TenantExists(f"tenant {checked!r} already exists") from None
    return tenant_record(tenant)


def get_tenant(db: MetadataDatabase, name: str) -> TenantRecord:
    """The tenant called `name`; `UnknownTenant` if there is none."""
    with db.session() as session:
        tenant = session.scalar(select(Tenant).where(Tenant.name == name.strip()))
        if tenant is None:
            raise UnknownTenant(f"unknown tenant {name!r}")
        return tenant_record(tenant)


def list_tenants(db: MetadataDatabase) -> list[TenantRecord]:
    """Every tenant, by name."""
    with db.session() as session:
        return [tenant_record(t) for t in session.scalars(select(Tenant).order_by(Tenant.name))]


# Marks an entitlement argument `update_tenant` should leave as it is.
KEEP: tuple[str, ...] = ("<keep>",)


def update_tenant(
    db: MetadataDatabase,
    name: str,
    *,
    isos: Iterable[str] | None = KEEP,
    datasets: Iterable[str] | None = KEEP,
    features: Iterable[str] | None = KEEP,
    admin: bool | None = None,
) -> TenantRecord:
    """Change a tenant's entitlements or admin flag; arguments left at `KEEP` (or admin None) keep theirs.

    Passing None for an entitlement grants all of it. Takes effect on the
    tenant's next request: the change bumps the credentials version, which
    every process checks before trusting a key it verified earlier.
    """
    with db.session(write=True) as session:
        tenant = session.scalar(select(Tenant).where(Tenant.name == name.strip()))
        if tenant is None:
            raise UnknownTenant(f"unknown tenant {name!r}")
        entitled = normalize_entitlements(
            None if isos is KEEP else isos,
            None if datasets is KEEP else datasets,
            None if features is KEEP else features,
        )
        if isos is not KEEP:
            tenant.isos = entitled.isos
        if datasets is not KEEP:
            tenant.datasets = entitled.datasets
        if features is not KEEP:
            tenant.features = entitled.features
        if admin is not None:
            tenant.admin = admin
        bump_credentials_version(session)
        session.flush()
        return tenant_record(tenant)


def set_job_retention(db: MetadataDatabase, name: str, seconds: float | None) -> TenantRecord:
    """Keep the tenant's job artifacts `seconds` after their jobs finish (None: the service's default).

    The next retention sweep applies it, to jobs finished before the change
    too. Raises `UnknownTenant`, or `InvalidEntitlement` for a period that is
    not a positive number of seconds.
    """
    retention = check_retention(seconds)
    with db.session(write=True) as session:
        tenant = session.scalar(select(Tenant).where(Tenant.name == name.strip()))
        if tenant is None:
            raise UnknownTenant(f"unknown tenant {name!r}")
        tenant.job_retention_s = retention
        session.flush()
        return tenant_record(tenant)


def job_retentions(db: MetadataDatabase) -> dict[str, float]:
    """The tenants that override the default artifact retention, with their periods in seconds."""
    query = select(Tenant.name, Tenant.job_retention_s).where(Tenant.job_retention_s.is_not(None))
    with db.session() as session:
        return {name: float(seconds) for name, seconds in session.execute(query) if seconds is not None}
