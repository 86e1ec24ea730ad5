"""API keys: `c254_<key id>_<secret>`, of which only the SHA-256 of the secret is stored.

The key id is public (it names the key in lists, logs and the audit trail);
the secret is shown once, when the key is created, and cannot be recovered.
`verify_key` reads the database every time; `KeyVerifier`, the service's
path, memoizes keys that verified for as long as the credentials version is
unchanged. Either way a revoked key is refused on the very next request,
whichever process revoked it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from carbon254.metadata.credentials import bump_credentials_version
from carbon254.metadata.database import MetadataDatabase
from carbon254.metadata.errors import UnknownKey, UnknownTenant
from carbon254.metadata.models import ApiKey, Tenant
from carbon254.metadata.tenants import TenantRecord, entitlement_tuple

PREFIX = "c254"
KEY_ID_BYTES = 8  # 16 hex characters: no '_', so the key splits unambiguously
SECRET_BYTES = 32


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """A stored key, without its secret."""

    key_id: str
    tenant: str
    created_at: datetime
    revoked_at: datetime | None
    rotated_from: str | None

    @property
    def active(self) -> bool:
        """Whether the key is still accepted."""
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key: its record, and the plaintext to hand to the user once (it is not stored)."""

    record: ApiKeyRecord
    plaintext: str


@dataclass(frozen=True, slots=True)
class VerifiedKey:
    """A key that verified: its id and its tenant (with the tenant's current entitlements)."""

    key_id: str
    tenant: TenantRecord


def hash_secret(secret: str) -> str:
    """The hex SHA-256 of a key's secret: what the database stores instead of the secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def split_key(plaintext: str) -> tuple[str, str] | None:
    """(key id, secret) of a `c254_<id>_<secret>` key, or None if it is not shaped like one."""
    prefix, _, rest = plaintext.strip().partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or not key_id or not secret:
        return None
    return key_id, secret


def _key_record(key: ApiKey) -> ApiKeyRecord:
    return ApiKeyRecord(key.key_id, key.tenant.name, key.created_at, key.revoked_at, key.rotated_from)


def _issue(session: Session, tenant: Tenant, rotated_from: str | None) -> IssuedKey:
    key_id = secrets.token_hex(KEY_ID_BYTES)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    key = ApiKey(
        key_id=key_id,
        tenant=tenant,
        secret_hash=hash_secret(secret),
        created_at=datetime.now(UTC),
        rotated_from=rotated_from,
    )
    session.add(key)
    session.flush()
    return IssuedKey(_key_record(key), f"{PREFIX}_{key_id}_{secret}")


def create_key(db: MetadataDatabase, tenant: str) -> IssuedKey:
    """A new key for `tenant`; the plaintext is in the result and nowhere else. `UnknownTenant` if none."""
    with db.session(write=True) as session:
        row = session.scalar(select(Tenant).where(Tenant.name == tenant.strip()))
        if row is None:
            raise UnknownTenant(f"unknown tenant {tenant!r}")
        return _issue(session, row, rotated_from=None)


# Runs on every authenticated request: a Core query on a pooled connection costs a fifth of an ORM session.
_VERIFY = (
    select(
        ApiKey.secret_hash,
        ApiKey.revoked_at,
        Tenant.name,
        Tenant.admin,
        Tenant.isos,
        Tenant.datasets,
        Tenant.features,
        Tenant.created_at,
    )
    .join(Tenant, ApiKey.tenant_id == Tenant.id)
    .where(ApiKey.key_id == bindparam("key_id"))
)


def verify_key(db: MetadataDatabase, plaintext: str) -> VerifiedKey | None:
    """The key and tenant `plaintext` belongs to, or None if it is malformed, unknown, wrong or revoked.

    The stored and computed hashes are compared in constant time. Nothing is
    cached: a revocation is seen by the very next call, from any process.
    """
    parts = split_key(plaintext)
    if parts is None:
        return None
    key_id, secret = parts
    with db.engine.connect() as connection:
        row = connection.execute(_VERIFY, {"key_id": key_id}).one_or_none()
    if row is None:
        return None
    if not hmac.compare_digest(row.secret_hash, hash_secret(secret)) or row.revoked_at is not None:
        return None
    tenant = TenantRecord(
        name=row.name,
        admin=row.admin,
        isos=entitlement_tuple(row.isos),
        datasets=entitlement_tuple(row.datasets),
        features=entitlement_tuple(row.features),
        created_at=row.created_at,
    )
    return VerifiedKey(key_id, tenant)


# Verified keys a `KeyVerifier` remembers; past this many the memo starts afresh.
MEMO_MAX_KEYS = 10_000


class KeyVerifier:
    """`verify_key` with a memo of the keys that verified, valid while the credentials version holds.

    Each call reads the credentials version (one tiny query on a kept
    connection, see `carbon254.metadata.credentials`) instead of the key
    and its tenant: revocations, rotations and entitlement changes bump
    that version in their own transaction, so a memoized answer is never
    used after any of them, whichever process made it. The version is read
    before the key, so a change racing a verification only costs one more
    read. Only keys that verified are remembered (an unknown key costs a
    full read every time). Thread-safe.
    """

    def __init__(self, db: MetadataDatabase, *, max_keys: int = MEMO_MAX_KEYS) -> None:
        self.db = db
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._memo: dict[str, tuple[int, VerifiedKey]] = {}

    def verify(self, plaintext: str) -> VerifiedKey | None:
        """The key and tenant `plaintext` belongs to, or None (see `verify_key`); raises `SQLAlchemyError`."""
        version = self.db.credentials.read()
        # Remembered by a digest of the whole key: the plaintext is never held.
        digest = hash_secret(plaintext)
        with self._lock:
            remembered = self._memo.get(digest)
        if remembered is not None and remembered[0] == version:
            return remembered[1]
        verified = verify_key(self.db, plaintext)
        with self._lock:
            if verified is None:
                self._memo.pop(digest, None)
            else:
                if len(self._memo) >= self.max_keys:
                    self._memo.clear()
                self._memo[digest] = (version, verified)
        return verified


def _find(session: Session, key: str) -> ApiKey:
    """The key named by its id or its full plaintext (whose secret must verify)."""
    parts = split_key(key)
    key_id = parts[0] if parts else key.strip()
    row = session.get(ApiKey, key_id)
    if row is None:
        raise UnknownKey(f"unknown API key {key_id!r}")
    if parts is not None and not hmac.compare_digest(row.secret_hash, hash_secret(parts[1])):
        raise UnknownKey(f"the secret of API key {key_id!r} does not match; pass the key id or the whole key")
    return row


def revoke_key(db: MetadataDatabase, key: str) -> ApiKeyRecord:
    """Revoke a key given its id or plaintext; refused from the next request on. Idempotent.

    Raises `UnknownKey` for an unknown id or a plaintext whose secret does not match.
    """
    with db.session(write=True) as session:
        row = _find(session, key)
        if row.revoked_at is None:
            row.revoked_at = datetime.now(UTC)
            bump_credentials_version(session)
        session.flush()
        return _key_record(row)


def rotate_key(db: MetadataDatabase, key: str) -> IssuedKey:
    """Replace a key: a new key for the same tenant (`rotated_from` = the old id); the old one is revoked.

    Both happen in one transaction. Raises `UnknownKey` as `revoke_key`
    does; rotating an already revoked key is allowed (it issues a fresh one).
    """
    with db.session(write=True) as session:
        row = _find(session, key)
        if row.revoked_at is None:
            row.revoked_at = datetime.now(UTC)
            bump_credentials_version(session)
        return _issue(session, row.tenant, rotated_from=row.key_id)


def list_keys(db: MetadataDatabase, tenant: str | None = None) -> list[ApiKeyRecord]:
    """Keys (never their secrets), oldest first; only `tenant`'s when given (`UnknownTenant` if none)."""
    with db.session() as session:
        query = select(ApiKey).join(Tenant, ApiKey.tenant_id == Tenant.id)
        if tenant is not None:
            if session.scalar(select(Tenant.id).where(Tenant.name == tenant.strip())) is None:
                raise UnknownTenant(f"unknown tenant {tenant!r}")
            query = query.where(Tenant.name == tenant.strip())
        rows = session.scalars(query.order_by(ApiKey.created_at, ApiKey.key_id)).all()
        return [_key_record(k) for k in rows]
