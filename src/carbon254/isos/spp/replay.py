"""SPP's Marketplace file browser for the replay server.

`/file-browser-api/download/<folder>?path=/YYYY/.../<file>.csv` serves the stored file named
`<file>.csv` when `<folder>` is the one SPP keeps that kind of file in and the path's first
component is the year of the file's date stamp; anything else is a 404, as on SPP's portal.
"""

from __future__ import annotations

import re
from pathlib import Path

from carbon254.replay.server import Handler, ReplayRequest, Reply, Route
from carbon254.replay.sites import find_file

# File-name prefix -> the file-browser folder that holds it.
_FOLDERS = (
    (re.compile(r"^DA-LMP-SL-(\d{4})"), "da-lmp-by-settlement-location"),
    (re.compile(r"^RTBM-LMP-(?:DAILY-)?SL-(\d{4})"), "rtbm-lmp-by-location"),
    (re.compile(r"^DA-MCP-(\d{4})"), "da-mcp"),
    (re.compile(r"^RTBM-MCP-(?:DAILY-)?(\d{4})"), "rtbm-mcp"),
    (re.compile(r"^DAILY_HOURLY_LOAD-(\d{4})"), "hourly-load"),
    (re.compile(r"^OP-MTLF-(\d{4})"), "mtlf-vs-actual"),
)


def _handler(roots: list[Path]) -> Handler:
    def handle(request: ReplayRequest) -> Reply | None:
        folder = request.path.rsplit("/", 1)[-1]
        path = request.param("path") or ""
        name = path.rsplit("/", 1)[-1]
        found = next(((m, home) for p, home in _FOLDERS if (m := p.match(name))), None)
        if found is None:
            return None
        match, home = found
        # A file's folder path starts with its year (the 00:00 file of January 1 sits in the
        # previous year's December folder, its interval's start date).
        year_ok = path.startswith((f"/{match.group(1)}/", f"/{int(match.group(1)) - 1}/12/"))
        if folder != home or not year_ok:
            return None
        stored = find_file(roots, name)
        if stored is None:
            return None
        headers = {"Content-Type": "text/csv", "Content-Disposition": f'attachment; filename="{name}"'}
        return Reply(200, stored.read_bytes(), headers)

    return handle


def routes(roots: list[Path]) -> list[Route]:
    """The file-browser download route, serving files found under `roots`."""
    return [Route(re.compile(r"/file-browser-api/download/[a-z0-9-]+"), _handler(roots))]
