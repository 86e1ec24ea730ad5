"""One router per domain; `create_app` mounts every router listed in `ROUTERS`."""

from __future__ import annotations

from fastapi import APIRouter

from carbon254.service.routes import health, lmp, locations, quality

ROUTERS: tuple[APIRouter, ...] = (health.router, lmp.router, locations.router, quality.router)

__all__ = ["ROUTERS"]
