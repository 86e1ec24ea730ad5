"""Identity for `CARBON254_AUTH=required`, and the metadata database every service has.

`install_metadata(app, settings)` opens the metadata database
(`app.state.metadata`) and the audit log (`app.state.audit_log`), whatever
the auth mode: admin endpoints and the audit trail work with auth off too.
`install_authentication(app, settings)` adds the API-key/OIDC authenticator
(`app.state.authenticator`) and the per-credential rate limiter
(`app.state.rate_limiter`). Both release what they opened when the app shuts
down, by wrapping the app's lifespan. `/ready` checks the metadata database
(readiness check "metadata").
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI

from carbon254.config import Settings
from carbon254.metadata import AuditLog, MetadataDatabase
from carbon254.service.auth.authenticator import MetadataAuthenticator
from carbon254.service.ops.readiness import ReadinessCheck, add_readiness_check

__all__ = [
    "MetadataAuthenticator",
    "MetadataUnavailable",
    "install_authentication",
    "install_metadata",
    "metadata_check",
]


def _around_lifespan(app: FastAPI, startup: Callable[[], None], shutdown: Callable[[], None]) -> None:
    """Run `startup` before the app's own lifespan starts and `shutdown` after it ends (even on error)."""
    inner: Callable[[Any], AbstractAsyncContextManager[Any]] = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(scope_app: Any) -> AsyncIterator[Any]:
        startup()
        try:
            async with inner(scope_app) as state:
                yield state
        finally:
            shutdown()

    app.router.lifespan_context = lifespan


class MetadataUnavailable(RuntimeError):
    """The metadata database did not answer a trivial query (the readiness probe's failure)."""


def metadata_check(db: MetadataDatabase) -> ReadinessCheck:
    """The readiness check "metadata": `db` answers `SELECT 1` (run in a worker thread by `/ready`)."""

    def probe() -> None:
        if not db.ping():  # ping logs the cause itself and never raises
            raise MetadataUnavailable("the metadata database did not answer SELECT 1")

    return ReadinessCheck("metadata", probe)


def install_metadata(app: FastAPI, settings: Settings) -> MetadataDatabase:
    """Open the metadata database (migrated) and its audit log on `app.state`; idempotent.

    The database is `settings.metadata_database_url()` (SQLite under the data
    dir unless `CARBON254_METADATA_URL` says otherwise). Opened now, so the
    app works even when driven without its lifespan; at shutdown the audit
    log writes what it holds and the connections are closed (a restart of
    the same app reopens them). Registers the readiness check "metadata".
    """
    existing: MetadataDatabase | None = getattr(app.state, "metadata", None)
    if existing is not None:
        return existing
    db = MetadataDatabase(settings.metadata_database_url())
    audit = AuditLog(db)
    app.state.metadata = db
    app.state.audit_log = audit

    def shutdown() -> None:
        audit.close()
        db.close()

    _around_lifespan(app, audit.start, shutdown)
    add_readiness_check(app, metadata_check(db))
    return db


def install_authentication(app: FastAPI, settings: Settings) -> None:
    """Require credentials: API keys from the metadata database, OIDC tokens when an issuer is set.

    Sets `app.state.metadata`, `app.state.audit_log` (via `install_metadata`),
    `app.state.authenticator` and `app.state.rate_limiter` (None when rate
    limiting is disabled); the rate limiter's connections are closed when the
    app shuts down. Raises `ValueError` when an OIDC issuer is set without
    the URL of its signing keys.
    """
    # Imported here: they are only needed, and only configured, when auth is on. The
    # verifier's JWKS client lives as long as the app (not closed at shutdown, so a
    # restarted app keeps verifying).
    from carbon254.service.auth.oidc import OidcVerifier
    from carbon254.service.ratelimit import RedisRateLimiter, build_rate_limiter

    db = install_metadata(app, settings)
    oidc: OidcVerifier | None = None
    if settings.oidc_issuer:
        if not settings.oidc_jwks_url:
            raise ValueError("CARBON254_OIDC_ISSUER is set but CARBON254_OIDC_JWKS_URL is not")
        oidc = OidcVerifier(
            issuer=settings.oidc_issuer,
            audience=settings.oidc_audience,
            jwks_url=settings.oidc_jwks_url,
            cache_s=settings.oidc_jwks_cache_s,
            tenant_claim=settings.oidc_tenant_claim,
        )
    app.state.authenticator = MetadataAuthenticator(db, oidc)
    limiter = build_rate_limiter(settings)
    app.state.rate_limiter = limiter
    if isinstance(limiter, RedisRateLimiter):
        # Only the Redis limiter holds connections (the in-process one has nothing to release).
        # Like the metadata pool, its pool reconnects on next use, so a restarted app works.
        _around_lifespan(app, lambda: None, limiter.close)
