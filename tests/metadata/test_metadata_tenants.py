"""Tenants: creation, entitlement validation and normalization, updates, listing."""

from __future__ import annotations

import uuid

import pytest

from carbon254.metadata import (
    InvalidEntitlement,
    MetadataDatabase,
    TenantExists,
    UnknownTenant,
    create_tenant,
    get_tenant,
    list_tenants,
    update_tenant,
)


def unique(prefix: str = "tenant") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_create_normalizes_entitlements(db: MetadataDatabase) -> None:
    name = unique()
    tenant = create_tenant(
        db, name, isos=["pjm", "ERCOT", "ercot"], datasets=["LMP", "load"], features=["Risk"]
    )
    assert (tenant.name, tenant.admin) == (name, False)
    assert tenant.isos == ("ERCOT", "PJM")
    assert tenant.datasets == ("lmp", "load")
    assert tenant.features == ("risk",)
    assert tenant.created_at.tzinfo is not None
    assert get_tenant(db, name) == tenant


def test_none_means_all_and_empty_means_none(db: MetadataDatabase) -> None:
    everything = create_tenant(db, unique(), admin=True)
    assert (everything.isos, everything.datasets, everything.features, everything.admin) == (
        None,
        None,
        None,
        True,
    )
    nothing = create_tenant(db, unique(), isos=[], datasets=[], features=[])
    assert (nothing.isos, nothing.datasets, nothing.features) == ((), (), ())


def test_duplicate_name_is_refused(db: MetadataDatabase) -> None:
    name = unique()
    create_tenant(db, name)
    with pytest.raises(TenantExists, match=name):
        create_tenant(db, name, isos=["PJM"])
    assert get_tenant(db, name).isos is None  # the first one is untouched


def test_unknown_iso_and_dataset_are_refused_with_suggestions(db: MetadataDatabase) -> None:
    name = unique()
    with pytest.raises(InvalidEntitlement) as iso_error:
        create_tenant(db, name, isos=["ERCOT", "ERCOTT"])
    assert iso_error.value.field == "isos"
    assert "ERCOTT" in iso_error.value.message
    assert iso_error.value.suggestions[0] == "ERCOT"
    with pytest.raises(InvalidEntitlement) as dataset_error:
        create_tenant(db, name, datasets=["lmps"])
    assert dataset_error.value.field == "datasets"
    assert "lmp" in dataset_error.value.suggestions
    with pytest.raises(InvalidEntitlement, match="feature"):
        create_tenant(db, name, features=["no spaces"])
    with pytest.raises(InvalidEntitlement, match="tenant name"):
        create_tenant(db, "has space")
    with pytest.raises(UnknownTenant):
        get_tenant(db, name)  # nothing was created by the refused calls


def test_update_changes_only_what_is_given(db: MetadataDatabase) -> None:
    name = unique()
    create_tenant(db, name, isos=["PJM"], datasets=["lmp"], features=["curves"])
    updated = update_tenant(db, name, isos=["ERCOT", "PJM"])
    assert (updated.isos, updated.datasets, updated.features) == (("ERCOT", "PJM"), ("lmp",), ("curves",))
    updated = update_tenant(db, name, datasets=None, admin=True)
    assert (updated.datasets, updated.admin, updated.isos) == (None, True, ("ERCOT", "PJM"))
    assert get_tenant(db, name) == updated
    with pytest.raises(InvalidEntitlement):
        update_tenant(db, name, isos=["NOPE"])
    assert get_tenant(db, name).isos == ("ERCOT", "PJM")
    with pytest.raises(UnknownTenant):
        update_tenant(db, unique("missing"), isos=["PJM"])


def test_list_is_sorted_by_name(db: MetadataDatabase) -> None:
    prefix = unique("list")
    for suffix in ("b", "a", "c"):
        create_tenant(db, f"{prefix}-{suffix}")
    names = [t.name for t in list_tenants(db) if t.name.startswith(prefix)]
    assert names == [f"{prefix}-a", f"{prefix}-b", f"{prefix}-c"]
