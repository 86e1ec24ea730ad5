"""The metadata database: tenants, their API keys, and the audit log.

Plain SQLAlchemy 2 (no web framework): the service, the CLI and tests all use
these functions. SQLite under the data dir by default, PostgreSQL by setting
`CARBON254_METADATA_URL`; the schema is kept by Alembic migrations that run
whenever a database is opened.
"""

from __future__ import annotations

from carbon254.metadata.audit import (
    AuditCounts,
    AuditEvent,
    AuditLog,
    AuditRecord,
    query_events,
    write_events,
)
from carbon254.metadata.database import MetadataDatabase
from carbon254.metadata.errors import (
    InvalidEntitlement,
    MetadataError,
    TenantExists,
    UnknownKey,
    UnknownTenant,
)
from carbon254.metadata.keys import (
    ApiKeyRecord,
    IssuedKey,
    KeyVerifier,
    VerifiedKey,
    create_key,
    list_keys,
    revoke_key,
    rotate_key,
    verify_key,
)
from carbon254.metadata.tenants import (
    TenantRecord,
    create_tenant,
    get_tenant,
    job_retentions,
    list_tenants,
    normalize_entitlements,
    set_job_retention,
    update_tenant,
)

__all__ = [
    "ApiKeyRecord",
    "AuditCounts",
    "AuditEvent",
    "AuditLog",
    "AuditRecord",
    "InvalidEntitlement",
    "IssuedKey",
    "KeyVerifier",
    "MetadataDatabase",
    "MetadataError",
    "TenantExists",
    "TenantRecord",
    "UnknownKey",
    "UnknownTenant",
    "VerifiedKey",
    "create_key",
    "create_tenant",
    "get_tenant",
    "job_retentions",
    "list_keys",
    "list_tenants",
    "normalize_entitlements",
    "query_events",
    "revoke_key",
    "rotate_key",
    "set_job_retention",
    "update_tenant",
    "verify_key",
    "write_events",
]
