"""`GET /health` (liveness) and `GET /ready` (readiness) for load balancers and supervisors.

Liveness says the process serves requests and touches nothing else, so a
slow backend never gets a healthy process restarted. Readiness runs every
check registered on the app (`carbon254.service.ops.readiness`): the store,
and whichever of the metadata database, cache and broker are configured;
a 503 names the ones that failed so the operator knows where to look.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response

from carbon254.service.ops.readiness import readiness_checks, run_checks

router = APIRouter(tags=["ops"])


class Health(BaseModel):
    status: Literal["ok"]


class CheckStatus(BaseModel):
    """One backend's answer: `ok`, how long it took in milliseconds and, when it failed, why."""

    name: str
    ok: bool
    duration_ms: float
    error: str | None = None


class Readiness(BaseModel):
    """`ready` when every check passed; `failed` names the checks that did not."""

    status: Literal["ready", "not_ready"]
    checks: list[CheckStatus]
    failed: list[str]


@router.get("/health", summary="Liveness")
async def health() -> Health:
    """`{"status": "ok"}` while the process serves requests; touches no data, so it stays cheap."""
    return Health(status="ok")


@router.get(
    "/ready",
    summary="Readiness",
    responses={
        503: {"model": Readiness, "description": "At least one backend did not answer; see `failed`."}
    },
)
async def ready(request: Request, response: Response) -> Readiness:
    """200 when every backend answers (store, and metadata DB, cache, broker when configured), else 503.

    Each check is time-limited, so this answers within a few seconds even
    when a backend hangs.
    """
    results = await run_checks(readiness_checks(request.app.state))
    failed = [r.name for r in results if not r.ok]
    response.status_code = 503 if failed else 200
    return Readiness(
        status="not_ready" if failed else "ready",
        checks=[CheckStatus(name=r.name, ok=r.ok, duration_ms=r.duration_ms, error=r.error) for r in results],
        failed=failed,
    )
