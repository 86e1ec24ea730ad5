"""`MetadataAuthenticator`: API keys checked against the metadata database, JWTs by the OIDC verifier.

A key that verified is remembered only while the metadata database's
credentials version is unchanged (`metadata.KeyVerifier`, one tiny read per
request), so a revoked key or a narrowed entitlement takes effect on the
very next request, whichever process changed it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from carbon254.application.errors import ApiError
from carbon254.application.identity import AuthenticationError, AuthMethod, Entitlements, Principal
from carbon254.excerpt import excerpt
from carbon254.metadata import KeyVerifier, MetadataDatabase, TenantRecord, UnknownTenant, get_tenant
from carbon254.metadata.keys import PREFIX

if TYPE_CHECKING:
    from carbon254.service.auth.oidc import OidcVerifier

logger = logging.getLogger("carbon254.service")

# Seconds a client is asked to wait when the metadata database does not answer.
UNAVAILABLE_RETRY_S = 5
MISSING = "missing credentials: send 'Authorization: Bearer <API key or token>' or 'X-API-Key: <API key>'"


def entitlements_of(tenant: TenantRecord) -> Entitlements:
    """The identity-layer entitlements of a stored tenant (None stays 'everything')."""

    def frozen(values: tuple[str, ...] | None) -> frozenset[str] | None:
        return None if values is None else frozenset(values)

    return Entitlements(frozen(tenant.isos), frozen(tenant.datasets), frozen(tenant.features))


class MetadataAuthenticator:
    """The `identity.Authenticator` of a service with `CARBON254_AUTH=required`.

    `c254_...` credentials are API keys, verified against `db`; credentials
    of three dot-separated parts are JWTs, verified by `oidc` (when an OIDC
    issuer is configured) and mapped to the tenant their tenant claim names.
    """

    def __init__(self, db: MetadataDatabase, oidc: OidcVerifier | None = None) -> None:
        self.db = db
        self.oidc = oidc
        self.keys = KeyVerifier(db)

    def authenticate(self, credential: str | None) -> Principal:
        """The principal `credential` proves; `AuthenticationError` (401) if missing, unknown or invalid.

        When the metadata database cannot be reached the answer is a 503
        `ApiError` (with `Retry-After`): the caller's credential may be fine.
        """
        if credential is None:
            raise AuthenticationError(MISSING)
        try:
            if credential.startswith(f"{PREFIX}_"):
                return self._api_key(credential)
            if credential.count(".") == 2:
                return self._token(credential)
        except SQLAlchemyError:
            logger.exception("metadata database unreachable while authenticating a request")
            raise ApiError(
                503,
                "unavailable",
                "credentials cannot be checked right now (metadata database unreachable); retry shortly",
                headers={"Retry-After": str(UNAVAILABLE_RETRY_S)},
            ) from None
        raise AuthenticationError(f"unrecognised credential: expected an API key ({PREFIX}_...) or a JWT")

    def _api_key(self, credential: str) -> Principal:
        verified = self.keys.verify(credential)
        if verified is None:
            raise AuthenticationError("invalid API key: unknown, revoked or mistyped")
        tenant = verified.tenant
        entitlements = entitlements_of(tenant)
        return Principal(tenant.name, verified.key_id, AuthMethod.API_KEY, entitlements, tenant.admin)

    def _token(self, credential: str) -> Principal:
        if self.oidc is None:
            raise AuthenticationError(
                "bearer tokens are not accepted: no OIDC issuer is configured; use an API key"
            )
        claims = self.oidc.verify(credential)
        try:
            tenant = get_tenant(self.db, claims.tenant)
        except UnknownTenant:
            message = f"the token's tenant {excerpt(claims.tenant)} is not known here"
            raise AuthenticationError(message) from None
        return Principal(tenant.name, claims.subject, AuthMethod.OIDC, entitlements_of(tenant), tenant.admin)
