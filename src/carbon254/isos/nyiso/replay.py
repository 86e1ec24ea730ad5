"""NYISO's MIS public CSV server for the replay server.

`/public/csv/<folder>/<file>` serves a stored file called `<file>` (daily
`<YYYYMMDD><stem>.csv` or monthly `<YYYYMM01><stem>_csv.zip`) found under the
roots, as `mis.nyiso.com` does: CSV as `text/csv`, archives as
`application/zip`, 404 when nothing of that name is stored. Like NYISO, it
does not make up a daily file from an archive, nor an archive from daily
files.
"""

from __future__ import annotations

import re
from pathlib import Path

from carbon254.replay.server import Handler, ReplayRequest, Reply, Route
from carbon254.replay.sites import find_file


def _file_handler(roots: list[Path]) -> Handler:
    def handle(request: ReplayRequest) -> Reply | None:
        name = request.path.rsplit("/", 1)[-1]
        path = find_file(roots, name)
        if path is None:
            return None
        kind = "application/zip" if name.lower().endswith(".zip") else "text/csv"
        return Reply(200, path.read_bytes(), {"Content-Type": kind})

    return handle


def routes(roots: list[Path]) -> list[Route]:
    """Routes imitating `http://mis.nyiso.com/public/csv/...`, serving files under `roots`."""
    return [Route(re.compile(r"/public/csv/[A-Za-z]+/[^/]+"), _file_handler(roots))]
