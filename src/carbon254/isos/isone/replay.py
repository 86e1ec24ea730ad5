"""ISO-NE imitation: ISO Express pages and CSVs (session cookie required) and Web Services JSON (Basic auth).

- `/isoexpress/...` (any report page) answers HTML and sets the `isox_token` session cookie;
- `/static-transform/csv/histRpts/{da-lmp,rt-lmp,5min-rt-prelim}/<file>.csv` and
  `/transform/csv/hourlysystemdemand?start=YYYYMMDD&end=YYYYMMDD` serve the stored file of that name
  (`hourlysystemdemand_<start>.csv` for the latter) as `text/csv`, but only to a request carrying the
  cookie: without it ISO Express answers with an HTML page, as the real site does;
- `/api/v1.1/hourlylmp/da/final/day/<YYYYMMDD>` and `/api/v1.1/hourlyloadforecast/all/day/<YYYYMMDD>`
  serve `hourlylmp_da_final_<day>.json` / `hourlyloadforecast_all_<day>.json` to requests with an
  HTTP Basic `Authorization` header (401 otherwise).

Files not found answer 404.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from carbon254.replay.server import ReplayRequest, Reply, Route
from carbon254.replay.sites import find_file

COOKIE = "isox_token"
_HTML = {"Content-Type": "text/html; charset=utf-8"}


def _has_cookie(request: ReplayRequest) -> bool:
    cookies = request.headers.get("cookie", "")
    return any(part.strip().startswith(f"{COOKIE}=") for part in cookies.split(";"))


def _landing(request: ReplayRequest) -> Reply:
    token = secrets.token_hex(8)
    headers = {**_HTML, "Set-Cookie": f"{COOKIE}={token}; Path=/; HttpOnly"}
    return Reply(200, b"<html><body>ISO Express report page</body></html>", headers)


def _csv_file(roots: list[Path], name: str, request: ReplayRequest) -> Reply | None:
    if not _has_cookie(request):
        return Reply(200, b"<html><body>Please enable cookies</body></html>", _HTML)
    path = find_file(roots, name)
    if path is None:
        return None
    headers = {"Content-Type": "text/csv", "Content-Disposition": f'attachment; filename="{name}"'}
    return Reply(200, path.read_bytes(), headers)


def _json_file(roots: list[Path], name: str, request: ReplayRequest) -> Reply | None:
    if not request.headers.get("authorization", "").startswith("Basic "):
        return Reply(401, b"Unauthorized", {"WWW-Authenticate": 'Basic realm="ISO-NE"'})
    path = find_file(roots, name)
    if path is None:
        return None
    return Reply(200, path.read_bytes(), {"Content-Type": "application/json"})


def routes(roots: list[Path]) -> list[Route]:
    """Routes imitating www.iso-ne.com (ISO Express) and webservices.iso-ne.com, serving files in `roots`."""

    def hist(request: ReplayRequest) -> Reply | None:
        return _csv_file(roots, request.path.rsplit("/", 1)[-1], request)

    def demand(request: ReplayRequest) -> Reply | None:
        start = request.param("start") or ""
        if not re.fullmatch(r"\d{8}", start):
            return Reply(400, b"start=YYYYMMDD required", {"Content-Type": "text/plain"})
        return _csv_file(roots, f"hourlysystemdemand_{start}.csv", request)

    def ws_lmp(request: ReplayRequest) -> Reply | None:
        return _json_file(roots, f"hourlylmp_da_final_{request.path.rsplit('/', 1)[-1]}.json", request)

    def ws_forecast(request: ReplayRequest) -> Reply | None:
        return _json_file(roots, f"hourlyloadforecast_all_{request.path.rsplit('/', 1)[-1]}.json", request)

    return [
        Route(re.compile(r"/isoexpress/.*"), _landing),
        Route(
            re.compile(r"/static-transform/csv/histRpts/(da-lmp|rt-lmp|5min-rt-prelim)/[A-Za-z0-9_\-]+\.csv"),
            hist,
        ),
        Route(re.compile(r"/transform/csv/hourlysystemdemand"), demand),
        Route(re.compile(r"/api/v1\.1/hourlylmp/da/final/day/\d{8}"), ws_lmp),
        Route(re.compile(r"/api/v1\.1/hourlyloadforecast/all/day/\d{8}"), ws_forecast),
    ]
