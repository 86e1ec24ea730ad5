"""PJM's servers for the replay server: Data Miner 2 paged JSON and the BRA results files.

`/api/v1/<feed>` serves the rows of every stored `<feed>_*.json` file (a Data Miner response
saved whole) as Data Miner does: it demands the `Ocp-Apim-Subscription-Key` header (401
without it), filters rows by the request's `<time field>=MM/DD/YYYY HH:MMtoMM/DD/YYYY HH:MM`
range (both ends inclusive, as PJM's are) and `row_is_current=TRUE`, and pages them by
`startRow` (1-based) and `rowCount`, with a `rel: next` link on every page but the last.
`/-/media/.../<YYYY-YYYY>/<file>.csv` serves a stored BRA results table by name.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from carbon254.replay.server import Handler, ReplayRequest, Reply, Route
from carbon254.replay.sites import find_file

_API_HOST = "https://api.pjm.com"
_RANGE = re.compile(r"^\s*(.+?)\s*to\s*(.+?)\s*$")
_CONTROL = {"startrow", "rowcount", "row_is_current", "fields", "sort", "order", "download", "format"}


def _json(status: int, doc: object) -> Reply:
    return Reply(status, json.dumps(doc).encode(), {"Content-Type": "application/json; charset=utf-8"})


def _stored_rows(roots: list[Path], feed: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for root in roots:
        for path in sorted(root.rglob(f"{feed}_*.json")):
            doc = json.loads(path.read_bytes())
            rows.extend(doc["items"] if isinstance(doc, dict) else doc)
    return rows


def _range_filter(request: ReplayRequest) -> tuple[str, datetime, datetime] | None:
    for name, values in request.query.items():
        if name.lower() in _CONTROL or not values:
            continue
        match = _RANGE.match(values[0])
        if match:
            lo, hi = (datetime.strptime(v, "%m/%d/%Y %H:%M") for v in match.groups())
            return name, lo, hi
    return None


def _feed_handler(roots: list[Path]) -> Handler:
    def handle(request: ReplayRequest) -> Reply | None:
        feed = request.path.rsplit("/", 1)[-1]
        if not request.headers.get("ocp-apim-subscription-key"):
            return _json(
                401, {"statusCode": 401, "message": "Access denied due to missing subscription key."}
            )
        rows = _stored_rows(roots, feed)
        if not rows:
            return None
        window = _range_filter(request)
        if window is None:
            return _json(400, {"errors": [{"message": "A datetime is missing."}]})
        field, lo, hi = window
        rows = [r for r in rows if field in r and lo <= datetime.fromisoformat(r[field][:19]) <= hi]
        if (request.param("row_is_current") or "").upper() == "TRUE":
            rows = [r for r in rows if r.get("row_is_current", True)]
        start = int(request.param("startRow") or 1)
        count = int(request.param("rowCount") or 50_000)
        items = rows[start - 1 : start - 1 + count]
        query = {k: v[0] for k, v in request.query.items()}
        links = [{"rel": "self", "href": f"{_API_HOST}{request.path}?{urlencode(query)}"}]
        if start - 1 + count < len(rows):
            links.append(
                {
                    "rel": "next",
                    "href": f"{_API_HOST}{request.path}?{urlencode({**query, 'startRow': start + count})}",
                }
            )
        links.append({"rel": "metadata", "href": f"{_API_HOST}{request.path}/metadata"})
        return _json(200, {"links": links, "items": items, "totalRows": len(rows)})

    return handle


def _bra_handler(roots: list[Path]) -> Handler:
    def handle(request: ReplayRequest) -> Reply | None:
        path = find_file(roots, request.path.rsplit("/", 1)[-1])
        if path is None:
            return None
        return Reply(200, path.read_bytes(), {"Content-Type": "text/csv"})

    return handle


def routes(roots: list[Path]) -> list[Route]:
    """Routes for Data Miner 2 feeds and the RPM BRA results files, serving files under `roots`."""
    return [
        Route(re.compile(r"/api/v1/[a-z0-9_]+"), _feed_handler(roots)),
        Route(
            re.compile(r"/-/media/DotCom/markets-ops/rpm/rpm-auction-info/\d{4}-\d{4}/[^/]+\.csv"),
            _bra_handler(roots),
        ),
    ]
