"""`GET /health`: liveness for load balancers and process supervisors."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

router = APIRouter(tags=["ops"])


class Health(BaseModel):
    status: Literal["ok"]


@router.get("/health", summary="Liveness")
async def health() -> Health:
    """`{"status": "ok"}` while the process serves requests; touches no data, so it stays cheap."""
    return Health(status="ok")
