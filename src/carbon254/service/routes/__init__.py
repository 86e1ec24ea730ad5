"""Routers by domain, so one codebase serves everything in one process or a subset per port.

`carbon254 serve --only data,quality` (or `Settings.only`) mounts only the
routers of those domains, plus `ops` (health, readiness, metrics), which every
process serves so each port can be probed and scraped on its own. The default
(`only` unset) mounts every domain: one process with everything.

Each domain names its routers by module path and attribute (an `APIRouter`,
or a function `(Settings) -> APIRouter` for routers built from settings)
rather than importing them here, so importing this package stays cheap, and a domain
whose module is not installed is an error only when that domain is asked for
by name; with the default (everything) such a router is skipped with a
warning. An import error *inside* an existing module always propagates.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI

from carbon254.application.operations import OPERATIONS
from carbon254.config import Settings
from carbon254.schema import Dataset

logger = logging.getLogger("carbon254.service")


@dataclass(frozen=True, slots=True)
class RouterRef:
    """Where a router lives: `module` (dotted path) and its attribute: an `APIRouter` or a factory of one."""

    module: str
    attribute: str = "router"

    def __str__(self) -> str:
        return f"{self.module}.{self.attribute}"


@dataclass(frozen=True, slots=True)
class Domain:
    """A named group of routers that `--only` can select, and the paths (or path prefixes) they serve."""

    name: str
    description: str
    routers: tuple[RouterRef, ...]
    paths: tuple[str, ...] = ()

    def owns(self, path: str) -> bool:
        """Whether a request to `path` is this domain's to answer."""
        return any(path == p or path.startswith(p + "/") for p in self.paths)


class UnknownDomain(ValueError):
    """`--only` named a domain that does not exist; the message lists the valid ones."""


class DomainUnavailable(RuntimeError):
    """A domain asked for by name needs a router whose module is not installed."""


OPS = "ops"

# The domains, in mounting order. `ops` is mounted by every process whatever `only` says.
DOMAINS: tuple[Domain, ...] = (
    Domain(
        OPS,
        "liveness /health, readiness /ready and Prometheus /metrics (always served)",
        (RouterRef("carbon254.service.routes.health"), RouterRef("carbon254.service.metrics")),
        ("/health", "/ready", "/metrics"),
    ),
    Domain(
        "data",
        "market data under /v1: every dataset (lmp, as_price, ...) and the location catalog",
        (
            RouterRef("carbon254.service.routes.lmp"),
            RouterRef("carbon254.service.routes.datasets"),
            RouterRef("carbon254.service.routes.locations"),
        ),
        (*(f"/v1/{d.value}" for d in Dataset), "/v1/locations"),
    ),
    Domain(
        "analytics",
        "computed analytics under /v1: one route per declared operation (spreads, curves/...), "
        "marking curves (POST /v1/curves), scenarios (/v1/scenarios), battery runs (/v1/battery), PPA "
        "valuations (/v1/ppa), risk portfolios (/v1/risk), forecast training and backtests "
        "(/v1/forecast/train, /v1/backtests) and the forecast model registry (/v1/models)",
        (
            RouterRef("carbon254.service.routes.operations"),
            RouterRef("carbon254.service.routes.curves"),
            RouterRef("carbon254.service.routes.scenarios"),
            RouterRef("carbon254.service.routes.battery"),
            RouterRef("carbon254.service.routes.ppa"),
            RouterRef("carbon254.service.routes.risk"),
            RouterRef("carbon254.service.routes.models"),
            RouterRef("carbon254.service.routes.forecast"),
        ),
        (
            "/v1/curves",
            "/v1/scenarios",
            # Not all of /v1/battery: the fleet screen's submit is the jobs domain's.
            "/v1/battery/optimize",
            "/v1/battery/chart",
            "/v1/ppa/value",
            "/v1/ppa/chart",
            "/v1/risk/portfolios",
            "/v1/risk/backtest/chart",
            "/v1/models",
            "/v1/forecast/train",
            "/v1/backtests",
            *(operation.rest_path for operation in OPERATIONS),
        ),
    ),
    Domain(
        "quality",
        "data quality per market day (/v1/quality)",
        (RouterRef("carbon254.service.routes.quality"),),
        ("/v1/quality",),
    ),
    Domain(
        "graphql",
        "GraphQL and the GraphiQL playground (/graphql)",
        (RouterRef("carbon254.service.graphql", "graphql_router"),),
        ("/graphql",),
    ),
    Domain(
        "stream",
        "WebSocket streaming (/v1/stream)",
        (RouterRef("carbon254.service.routes.stream"),),
        ("/v1/stream",),
    ),
    Domain(
        "jobs",
        "long work as jobs and their signed downloads (/v1/jobs, /v1/downloads), and the battery fleet "
        "screen's submit (/v1/battery/screen)",
        (
            RouterRef("carbon254.service.routes.jobs"),
            RouterRef("carbon254.service.routes.downloads"),
            RouterRef("carbon254.service.routes.battery_screen"),
        ),
        ("/v1/jobs", "/v1/downloads", "/v1/battery/screen"),
    ),
    Domain(
        "admin",
        "tenants, keys and the audit log (/v1/admin)",
        (RouterRef("carbon254.service.routes.admin"),),
        ("/v1/admin",),
    ),
    Domain(
        "excel",
        "the Excel add-in: manifest, custom functions and task pane (/excel)",
        (RouterRef("carbon254.service.routes.excel"),),
        ("/excel",),
    ),
)

DOMAIN_NAMES: tuple[str, ...] = tuple(d.name for d in DOMAINS)


def select_domains(only: Iterable[str] | None) -> tuple[Domain, ...]:
    """The domains to mount for `only` (names, any case; None: all), always including `ops`.

    Raises `UnknownDomain` naming the valid domains when a name is not one of them.
    """
    if only is None:
        return DOMAINS
    wanted = {name.strip().lower() for name in only if name.strip()}
    unknown = sorted(wanted - set(DOMAIN_NAMES))
    if unknown:
        raise UnknownDomain(
            f"unknown domain{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"valid domains: {', '.join(DOMAIN_NAMES)}"
        )
    wanted.add(OPS)
    return tuple(d for d in DOMAINS if d.name in wanted)


def unserved_owner(path: str, only: Iterable[str] | None) -> tuple[Domain, tuple[Domain, ...]] | None:
    """For a path no route matched: (the domain that serves it, the domains this process serves).

    None unless `only` (the process's `--only`) leaves out the domain owning
    `path`, in which case the request is right but sent to the wrong process.
    """
    if only is None:
        return None
    served = select_domains(only)
    owner = next((d for d in DOMAINS if d.owns(path)), None)
    if owner is None or owner in served:
        return None
    return owner, served


def _is_missing(exc: ModuleNotFoundError, module: str) -> bool:
    """Whether `exc` says `module` itself (or a package above it) is absent, not something it imports."""
    return exc.name is not None and (module == exc.name or module.startswith(exc.name + "."))


def load_router(ref: RouterRef, settings: Settings) -> APIRouter | None:
    """The router `ref` points at (built with `settings` if it is a factory), or None if not installed.

    Not installed: the module does not exist, or has no such attribute.
    """
    try:
        module = importlib.import_module(ref.module)
    except ModuleNotFoundError as exc:
        if _is_missing(exc, ref.module):
            return None
        raise
    found = getattr(module, ref.attribute, None)
    if found is None:
        # A package being written (a directory without the router yet) counts as not installed.
        return None
    router = found if isinstance(found, APIRouter) or not callable(found) else found(settings)
    if not isinstance(router, APIRouter):
        raise TypeError(f"{ref} is neither an APIRouter nor a factory of one (got {type(found).__name__})")
    return router


def routers_for(settings: Settings) -> list[APIRouter]:
    """The routers of the domains `settings.only` selects (see `select_domains`), in mounting order.

    With `only` given, a router whose module is not installed raises
    `DomainUnavailable`; with the default (every domain) it is skipped and logged.
    """
    explicit = settings.only is not None
    routers: list[APIRouter] = []
    for domain in select_domains(settings.only):
        for ref in domain.routers:
            router = load_router(ref, settings)
            if router is not None:
                routers.append(router)
            elif explicit:
                raise DomainUnavailable(f"domain '{domain.name}' needs {ref}, which is not installed")
            else:
                logger.warning("router %s of domain '%s' is not installed; not serving it", ref, domain.name)
    return routers


def mount_routers(app: FastAPI, settings: Settings) -> None:
    """Include in `app` the routers of the domains `settings.only` selects (None: every domain)."""
    for router in routers_for(settings):
        app.include_router(router)


__all__ = [
    "DOMAINS",
    "DOMAIN_NAMES",
    "OPS",
    "Domain",
    "DomainUnavailable",
    "RouterRef",
    "UnknownDomain",
    "load_router",
    "mount_routers",
    "routers_for",
    "select_domains",
    "unserved_owner",
]
