"""The route template a request matched, for labels and logs whose cardinality must stay bounded."""

from __future__ import annotations

from starlette.routing import Mount
from starlette.types import Scope

UNMATCHED = "<unmatched>"


def route_template(scope: Scope) -> str:
    """`/v1/lmp`, `/items/{id}` or, for a mount (static files), its prefix plus `/*`; `<unmatched>` if none.

    Starlette's router stores the matched route in `scope["route"]` once the
    request was routed, so this is meaningful after the app has run.
    """
    route = scope.get("route")
    if isinstance(route, Mount):
        return f"{route.path}/*"
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED
