"""`/v1/admin/*`: tenants, API keys and the audit log, for principals of an admin tenant.

Every action is audited twice: the audit middleware records the request as
it does every `/v1` request, and each route adds the action itself
(`admin.tenant.create`, `admin.key.revoke`, ...) with its target and outcome,
refusals included. A new key's plaintext is in the response that creates it
and nowhere else: not stored, not logged, not audited.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from carbon254.application.errors import BAD_PARAMETER_STATUS, ApiError
from carbon254.application.identity import NotEntitled, Principal, require_admin
from carbon254.metadata import (
    ApiKeyRecord,
    AuditLog,
    AuditRecord,
    InvalidEntitlement,
    IssuedKey,
    MetadataDatabase,
    MetadataError,
    TenantExists,
    TenantRecord,
    UnknownKey,
    UnknownTenant,
    create_key,
    create_tenant,
    list_keys,
    list_tenants,
    revoke_key,
    rotate_key,
    set_job_retention,
    update_tenant,
)
from carbon254.metadata.audit import MAX_QUERY_LIMIT
from carbon254.metadata.tenants import KEEP, check_retention
from carbon254.service.audit import audit_action
from carbon254.service.control_characters import PlainText
from carbon254.service.errors import error_responses
from carbon254.service.identity import CurrentPrincipal, as_api_error
from carbon254.service.strict_query import StrictQueryRoute

DOMAIN = "admin"
router = APIRouter(prefix="/v1/admin", tags=["admin"], route_class=StrictQueryRoute)

T = TypeVar("T")
# Seconds GET /v1/admin/audit waits for queued events to be written, so an
# admin sees the actions just taken.
AUDIT_READ_FLUSH_S = 2.0


def admin_principal(principal: CurrentPrincipal) -> Principal:
    """FastAPI dependency: the caller, who must belong to an admin tenant (401 / 403 otherwise)."""
    try:
        require_admin(principal)
    except NotEntitled as exc:
        raise as_api_error(exc) from None
    return principal


def get_metadata(request: Request) -> MetadataDatabase:
    """The app's metadata database (`install_metadata`)."""
    db: MetadataDatabase = request.app.state.metadata
    return db


Admin = Annotated[Principal, Depends(admin_principal)]
Metadata = Annotated[MetadataDatabase, Depends(get_metadata)]


# --- bodies ---------------------------------------------------------------------------------------
class TenantCreate(BaseModel):
    """A new tenant; an omitted or null entitlement list grants all ISOs/datasets/features."""

    name: PlainText = Field(description="Tenant name: letters, digits, '.', '_' or '-'.", examples=["acme"])
    isos: list[PlainText] | None = Field(default=None, examples=[["ERCOT", "PJM"]])
    datasets: list[PlainText] | None = Field(default=None, examples=[["lmp", "load"]])
    features: list[PlainText] | None = Field(default=None, examples=[["curves", "risk"]])
    admin: bool = Field(default=False, description="Whether the tenant may use /v1/admin.")
    job_retention_s: float | None = Field(
        default=None,
        description="Seconds its jobs' artifacts are kept after they finish; null: the service's default.",
        examples=[2_592_000],
    )


class TenantUpdate(BaseModel):
    """Changes to a tenant: only the fields sent change; null grants all of that kind (or, for
    `job_retention_s`, the service's default retention)."""

    isos: list[PlainText] | None = None
    datasets: list[PlainText] | None = None
    features: list[PlainText] | None = None
    admin: bool | None = None
    job_retention_s: float | None = None


class TenantOut(BaseModel):
    """A tenant and its entitlements (null = all)."""

    name: str
    admin: bool
    isos: list[str] | None
    datasets: list[str] | None
    features: list[str] | None
    job_retention_s: float | None
    created_at: datetime

    @classmethod
    def of(cls, tenant: TenantRecord) -> TenantOut:
        def listed(values: tuple[str, ...] | None) -> list[str] | None:
            return None if values is None else list(values)

        return cls(
            name=tenant.name,
            admin=tenant.admin,
            isos=listed(tenant.isos),
            datasets=listed(tenant.datasets),
            features=listed(tenant.features),
            job_retention_s=tenant.job_retention_s,
            created_at=tenant.created_at,
        )


class TenantList(BaseModel):
    data: list[TenantOut]
    count: int


class KeyCreate(BaseModel):
    """Which tenant a new key is for."""

    tenant: PlainText = Field(examples=["acme"])


class KeyOut(BaseModel):
    """An API key, without its secret."""

    key_id: str
    tenant: str
    created_at: datetime
    revoked_at: datetime | None
    rotated_from: str | None
    active: bool

    @classmethod
    def of(cls, key: ApiKeyRecord) -> KeyOut:
        return cls(
            key_id=key.key_id,
            tenant=key.tenant,
            created_at=key.created_at,
            revoked_at=key.revoked_at,
            rotated_from=key.rotated_from,
            active=key.active,
        )


class IssuedKeyOut(KeyOut):
    """A new key: `key` is the plaintext to send as a credential, shown this once only."""

    key: str

    @classmethod
    def issued(cls, issued: IssuedKey) -> IssuedKeyOut:
        return cls(**KeyOut.of(issued.record).model_dump(), key=issued.plaintext)


class KeyList(BaseModel):
    data: list[KeyOut]
    count: int


class AuditEventOut(BaseModel):
    """One audit event; `duration_ms` in milliseconds, `rows` when the response said."""

    id: int
    at: datetime
    tenant: str | None
    subject: str | None
    method: str
    action: str
    target: str
    parameters: dict[str, str]
    rows: int | None
    status: int
    duration_ms: float
    request_id: str | None

    @classmethod
    def of(cls, record: AuditRecord) -> AuditEventOut:
        e = record.event
        return cls(
            id=record.id,
            at=e.at,
            tenant=e.tenant,
            subject=e.subject,
            method=e.method,
            action=e.action,
            target=e.target,
            parameters=e.parameters,
            rows=e.rows,
            status=e.status,
            duration_ms=e.duration_ms,
            request_id=e.request_id,
        )


class AuditList(BaseModel):
    data: list[AuditEventOut]
    count: int


# --- helpers --------------------------------------------------------------------------------------
def _api_error(exc: MetadataError) -> ApiError:
    if isinstance(exc, TenantExists):
        return ApiError(409, "conflict", exc.message, "name")
    if isinstance(exc, UnknownTenant):
        return ApiError(404, "not_found", exc.message, "tenant")
    if isinstance(exc, UnknownKey):
        return ApiError(404, "not_found", exc.message, "key_id")
    if isinstance(exc, InvalidEntitlement):
        return ApiError(BAD_PARAMETER_STATUS, "invalid_parameter", exc.message, exc.field, exc.suggestions)
    return ApiError(BAD_PARAMETER_STATUS, "invalid_parameter", exc.message)


def _audited(
    request: Request, action: str, target: str, parameters: dict[str, str], run: Callable[[], T], status: int
) -> T:
    """`run()`, audited as `action` on `target`; a refused action is audited with its error status."""
    try:
        result = run()
    except MetadataError as exc:
        error = _api_error(exc)
        audit_action(request, action, target, parameters, status=error.status_code)
        raise error from None
    audit_action(request, action, target, parameters, status=status)
    return result


def _joined(values: list[str] | None) -> str:
    return "*" if values is None else ",".join(values)


def _seconds(value: float | None) -> str:
    return "default" if value is None else f"{value:g}"


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# --- tenants --------------------------------------------------------------------------------------
@router.post(
    "/tenants", status_code=201, summary="Create a tenant", responses=error_responses(401, 403, 409, 422)
)
def post_tenant(body: TenantCreate, request: Request, db: Metadata, _: Admin) -> TenantOut:
    """Create a tenant with its entitlements (null = all); 409 if the name is taken."""
    parameters = {
        "isos": _joined(body.isos),
        "datasets": _joined(body.datasets),
        "features": _joined(body.features),
        "admin": str(body.admin).lower(),
        "job_retention_s": _seconds(body.job_retention_s),
    }

    def run() -> TenantRecord:
        return create_tenant(
            db,
            body.name,
            isos=body.isos,
            datasets=body.datasets,
            features=body.features,
            admin=body.admin,
            job_retention_s=body.job_retention_s,
        )

    return TenantOut.of(_audited(request, "admin.tenant.create", body.name, parameters, run, 201))


@router.get("/tenants", summary="List tenants", responses=error_responses(401, 403))
def get_tenants(db: Metadata, _: Admin) -> TenantList:
    """Every tenant and its entitlements, by name."""
    tenants = [TenantOut.of(t) for t in list_tenants(db)]
    return TenantList(data=tenants, count=len(tenants))


@router.patch("/tenants/{name}", summary="Change a tenant", responses=error_responses(401, 403, 404, 422))
def patch_tenant(
    name: Annotated[str, Path(description="Tenant name.")],
    body: TenantUpdate,
    request: Request,
    db: Metadata,
    _: Admin,
) -> TenantOut:
    """Change a tenant's entitlements or admin flag: only the fields sent change (null = all)."""
    sent = body.model_fields_set
    parameters: dict[str, str] = {
        field: _joined(getattr(body, field)) for field in ("isos", "datasets", "features") if field in sent
    }
    if "admin" in sent and body.admin is not None:
        parameters["admin"] = str(body.admin).lower()
    if "job_retention_s" in sent:
        parameters["job_retention_s"] = _seconds(body.job_retention_s)

    def run() -> TenantRecord:
        if "job_retention_s" in sent:
            # Checked (and refused with 422) before any other change is made.
            check_retention(body.job_retention_s)
        tenant = update_tenant(
            db,
            name,
            isos=body.isos if "isos" in sent else KEEP,
            datasets=body.datasets if "datasets" in sent else KEEP,
            features=body.features if "features" in sent else KEEP,
            admin=body.admin if "admin" in sent else None,
        )
        if "job_retention_s" in sent:
            tenant = set_job_retention(db, name, body.job_retention_s)
        return tenant

    return TenantOut.of(_audited(request, "admin.tenant.update", name, parameters, run, 200))


# --- keys -----------------------------------------------------------------------------------------
@router.post(
    "/keys", status_code=201, summary="Create an API key", responses=error_responses(401, 403, 404, 422)
)
def post_key(body: KeyCreate, request: Request, db: Metadata, _: Admin) -> IssuedKeyOut:
    """A new key for a tenant; `key` in the response is its plaintext, shown this once only."""
    try:
        issued = create_key(db, body.tenant)
    except MetadataError as exc:
        error = _api_error(exc)
        audit_action(
            request, "admin.key.create", body.tenant, {"tenant": body.tenant}, status=error.status_code
        )
        raise error from None
    audit_action(request, "admin.key.create", issued.record.key_id, {"tenant": body.tenant}, status=201)
    return IssuedKeyOut.issued(issued)


@router.get("/keys", summary="List API keys", responses=error_responses(401, 403, 404))
def get_keys(
    db: Metadata,
    _: Admin,
    tenant: Annotated[str | None, Query(description="Only this tenant's keys.")] = None,
) -> KeyList:
    """Keys (never their secrets), oldest first, revoked ones included (`active` false)."""
    try:
        keys = [KeyOut.of(k) for k in list_keys(db, tenant)]
    except MetadataError as exc:
        raise _api_error(exc) from None
    return KeyList(data=keys, count=len(keys))


@router.delete("/keys/{key_id}", summary="Revoke an API key", responses=error_responses(401, 403, 404))
def delete_key(
    key_id: Annotated[str, Path(description="The key's id (the part after `c254_`).")],
    request: Request,
    db: Metadata,
    _: Admin,
) -> KeyOut:
    """Revoke a key: refused from the next request on, by every process. Revoking twice is harmless."""
    return KeyOut.of(_audited(request, "admin.key.revoke", key_id, {}, lambda: revoke_key(db, key_id), 200))


@router.post(
    "/keys/{key_id}/rotate",
    status_code=201,
    summary="Rotate an API key",
    responses=error_responses(401, 403, 404),
)
def post_rotate(
    key_id: Annotated[str, Path(description="The key's id.")],
    request: Request,
    db: Metadata,
    _: Admin,
) -> IssuedKeyOut:
    """A new key for the key's tenant (`rotated_from` = the old id); the old key is revoked at once."""
    try:
        issued = rotate_key(db, key_id)
    except MetadataError as exc:
        error = _api_error(exc)
        audit_action(request, "admin.key.rotate", key_id, {}, status=error.status_code)
        raise error from None
    audit_action(request, "admin.key.rotate", key_id, {"new_key_id": issued.record.key_id}, status=201)
    return IssuedKeyOut.issued(issued)


# --- audit ----------------------------------------------------------------------------------------
@router.get("/audit", summary="Query the audit log", responses=error_responses(401, 403, 422))
def get_audit(
    request: Request,
    _: Admin,
    tenant: Annotated[str | None, Query(description="Only this tenant's events.")] = None,
    action: Annotated[
        str | None, Query(description="Only this action, e.g. `request`, `admin.key.revoke`.")
    ] = None,
    since: Annotated[
        datetime | None, Query(description="Inclusive start (ISO-8601; UTC if no offset).")
    ] = None,
    until: Annotated[
        datetime | None, Query(description="Exclusive end (ISO-8601; UTC if no offset).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_QUERY_LIMIT, description="Most events returned.")] = 100,
) -> AuditList:
    """Audit events, newest first: who, tenant, what, parameters (secrets redacted), rows, status, time."""
    since_, until_ = _utc(since), _utc(until)
    if since_ is not None and until_ is not None and until_ <= since_:
        raise ApiError(BAD_PARAMETER_STATUS, "invalid_parameter", "'until' must be after 'since'", "until")
    audit_log: AuditLog = request.app.state.audit_log
    audit_log.flush(AUDIT_READ_FLUSH_S)
    records = audit_log.query(tenant=tenant, action=action, since=since_, until=until_, limit=limit)
    events = [AuditEventOut.of(r) for r in records]
    return AuditList(data=events, count=len(events))
