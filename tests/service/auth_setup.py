"""Test helper: tenants and API keys in the metadata database an app with `auth=required` reads.

    key = make_tenant_key(settings, "acme", isos=["ERCOT"])
    client.get("/v1/lmp", params=..., headers={"X-API-Key": key})

Writes through `carbon254.metadata`, as `carbon254 tenants create` and
`carbon254 keys create` do, into `settings.metadata_database_url()`: the
same database `create_app(settings)` opens, whether it is created before or
after this call.
"""

from __future__ import annotations

from collections.abc import Sequence

from carbon254.config import Settings
from carbon254.metadata import MetadataDatabase, create_key, create_tenant


def make_tenant_key(
    settings: Settings,
    name: str,
    isos: Sequence[str] | None = None,
    datasets: Sequence[str] | None = None,
    features: Sequence[str] | None = None,
    admin: bool = False,
) -> str:
    """Create tenant `name` with these entitlements (None = all) and one API key; the key's plaintext.

    Tenant names are unique per database: use a new name per call (or a new data dir).
    """
    db = MetadataDatabase(settings.metadata_database_url())
    try:
        create_tenant(db, name, isos=isos, datasets=datasets, features=features, admin=admin)
        return create_key(db, name).plaintext
    finally:
        db.close()


def make_key(settings: Settings, tenant: str) -> str:
    """One more API key for an existing tenant; its plaintext."""
    db = MetadataDatabase(settings.metadata_database_url())
    try:
        return create_key(db, tenant).plaintext
    finally:
        db.close()
