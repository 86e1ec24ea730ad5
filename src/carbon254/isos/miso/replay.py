"""MISO's servers for the replay server: market reports and the real-time reporter and data broker.

- `/marketreports/<file>` serves a stored market report by name
  (`docs.misoenergy.org`; CSV as `text/csv`, the weekly zips as
  `application/zip`), 404 when none is stored.
- `/MISORTWDBIReporter/Reporter.asmx?messageType=<type>&returnType=csv`
  serves the stored `<type>.csv` (e.g. `rollingmarketday.csv`), the feed
  as it stood when the file was saved.
- `/MISORTWDDataBroker/DataBrokerServices.asmx?messageType=<type>&returnType=json`
  serves the stored `<type>.json` (e.g. `gettotalload.json`).

A request without `messageType`, or with a `returnType` the stored file does
not have, gets 404.
"""

from __future__ import annotations

import re
from pathlib import Path

from carbon254.replay.server import Handler, ReplayRequest, Reply, Route
from carbon254.replay.sites import find_file

_TYPES = {"csv": "text/csv", "json": "application/json; charset=utf-8", "zip": "application/zip"}


def _reply(roots: list[Path], name: str) -> Reply | None:
    path = find_file(roots, name)
    if path is None:
        return None
    kind = _TYPES.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")
    return Reply(200, path.read_bytes(), {"Content-Type": kind})


def _report_handler(roots: list[Path]) -> Handler:
    def handle(request: ReplayRequest) -> Reply | None:
        return _reply(roots, request.path.rsplit("/", 1)[-1])

    return handle


def _feed_handler(roots: list[Path]) -> Handler:
    def handle(request: ReplayRequest) -> Reply | None:
        message = request.param("messageType")
        fmt = (request.param("returnType") or "").lower()
        if not message or fmt not in ("csv", "json") or not re.fullmatch(r"[A-Za-z]+", message):
            return None
        return _reply(roots, f"{message}.{fmt}")

    return handle


def routes(roots: list[Path]) -> list[Route]:
    """Routes imitating `docs.misoenergy.org/marketreports` and `api.misoenergy.org`'s feeds."""
    feeds = _feed_handler(roots)
    return [
        Route(re.compile(r"/marketreports/[^/]+"), _report_handler(roots)),
        Route(re.compile(r"/MISORTWDBIReporter/Reporter\.asmx"), feeds),
        Route(re.compile(r"/MISORTWDDataBroker/DataBrokerServices\.asmx"), feeds),
    ]
