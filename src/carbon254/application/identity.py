"""Who is calling and what they may see, as every surface and operation checks it.

A surface (REST, GraphQL, the stream, the CLI) authenticates its caller into
a `Principal`; the application layer then asks `require_data` (a dataset of
an ISO) and `require_feature` (an analytics feature) before it computes
anything, so entitlements are enforced identically everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from carbon254.application.errors import ApiError

ANONYMOUS_TENANT = "anonymous"


class AuthMethod(StrEnum):
    """How a principal proved who it is."""

    API_KEY = "api_key"
    OIDC = "oidc"
    NONE = "none"  # CARBON254_AUTH=off


@dataclass(frozen=True, slots=True)
class Entitlements:
    """What a tenant may read: ISOs, datasets and analytics features; None means all of them."""

    isos: frozenset[str] | None = None
    datasets: frozenset[str] | None = None
    features: frozenset[str] | None = None

    def allows_data(self, iso: str, dataset: str) -> bool:
        """Whether rows of `dataset` (e.g. `lmp`) for `iso` (e.g. `ERCOT`) may be read."""
        return (self.isos is None or iso.upper() in self.isos) and (
            self.datasets is None or dataset.lower() in self.datasets
        )

    def allows_feature(self, feature: str) -> bool:
        """Whether an analytics feature (e.g. `curves`, `risk`) may be used."""
        return self.features is None or feature.lower() in self.features


EVERYTHING = Entitlements()


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: its tenant, its own id within it, and the tenant's entitlements."""

    tenant: str
    subject: str  # API key id, OIDC `sub`, or "anonymous"
    method: AuthMethod
    entitlements: Entitlements
    admin: bool = False

    @property
    def rate_key(self) -> str:
        """The bucket this caller's requests are counted in: one per key or token subject."""
        return f"{self.method.value}:{self.tenant}:{self.subject}"


ANONYMOUS = Principal(ANONYMOUS_TENANT, "anonymous", AuthMethod.NONE, EVERYTHING, admin=True)


class AuthenticationError(Exception):
    """Missing, malformed, unknown, revoked, expired or forged credentials: answered 401."""


class NotEntitled(Exception):
    """Valid credentials, but the tenant may not see this: answered 403."""


class RateLimited(Exception):
    """Too many requests for one credential: answered 429 with `Retry-After`."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"rate limit exceeded; retry after {retry_after_s:.1f} s")
        self.retry_after_s = retry_after_s


def require_data(principal: Principal, iso: str, dataset: str) -> None:
    """Raise `NotEntitled` unless `principal`'s tenant may read `dataset` rows of `iso`."""
    if not principal.entitlements.allows_data(iso, dataset):
        raise NotEntitled(f"tenant '{principal.tenant}' is not entitled to {dataset} data of {iso.upper()}")


def require_feature(principal: Principal, feature: str) -> None:
    """Raise `NotEntitled` unless `principal`'s tenant may use the analytics `feature`."""
    if not principal.entitlements.allows_feature(feature):
        raise NotEntitled(f"tenant '{principal.tenant}' is not entitled to the {feature} feature")


def require_admin(principal: Principal) -> None:
    """Raise `NotEntitled` unless `principal` belongs to an admin tenant."""
    if not principal.admin:
        raise NotEntitled("this endpoint is for administrators only")


def not_entitled(exc: NotEntitled) -> ApiError:
    """The 403 refusal for an entitlement check that failed."""
    return ApiError(403, "not_entitled", str(exc))


def entitle_data(principal: Principal, iso: str, dataset: str) -> None:
    """`require_data` as a refusal: a 403 `ApiError` outside the tenant's entitlements."""
    try:
        require_data(principal, iso, dataset)
    except NotEntitled as exc:
        raise not_entitled(exc) from None


def entitle_feature(principal: Principal, feature: str) -> None:
    """`require_feature` as a refusal: a 403 `ApiError` when the tenant may not use `feature`."""
    try:
        require_feature(principal, feature)
    except NotEntitled as exc:
        raise not_entitled(exc) from None
