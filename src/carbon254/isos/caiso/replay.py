"""CAISO OASIS imitation: `GET /oasisapi/SingleZip?queryname=...` answered with a zip, as OASIS does.

Stored files are OASIS CSVs named `<QUERYNAME>_<MARKET_RUN_ID>_<YYYYMMDD>.csv`
(the Pacific trade day of the request's start); for `PRC_LMP` `DAM` the real
extract `seed.csv` is used when no such file exists. The handler keeps the rows
whose GMT interval start falls in [startdatetime, enddatetime) and, when a
`node` list is given, only those nodes, then zips them as `resultformat=6`
does. When nothing is left it answers like OASIS: HTTP 200 with a zip holding
the XML error "No data returned for the specified selection".
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from carbon254.replay.server import ReplayRequest, Reply, Route
from carbon254.replay.sites import find_file
from carbon254.timeseries.days import market_day_of

_START_COLUMNS = ("INTERVALSTARTTIME_GMT", "INTERVAL_START_GMT", "STARTTIME_GMT", "START_DATE_GMT")

NO_DATA_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<m:OASISReport xmlns:m="http://www.caiso.com/soa/OASISReport_v1.xsd">'
    "<m:MessageHeader><m:TimeDate>{now}</m:TimeDate><m:Source>OASIS</m:Source>"
    "<m:Version>v20131201</m:Version></m:MessageHeader>"
    "<m:MessagePayload><m:RTO><m:name>CAISO</m:name><m:ERROR><m:ERR_CODE>1000</m:ERR_CODE>"
    "<m:ERR_DESC>No data returned for the specified selection</m:ERR_DESC></m:ERROR></m:RTO>"
    "</m:MessagePayload></m:OASISReport>\n"
)


def _oasis_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y%m%dT%H:%M%z").astimezone(UTC)
    except ValueError:
        return None


def _zip(member: str, body: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(member, body)
    return buffer.getvalue()


def _reply_zip(name: str, member: str, body: bytes) -> Reply:
    headers = {
        "Content-Type": "application/x-zip-compressed",
        "Content-Disposition": f"inline; filename={name}",
    }
    return Reply(200, _zip(member, body), headers)


def _rows(path: Path, start: datetime, end: datetime, nodes: list[str] | None) -> bytes | None:
    """The stored CSV cut to [start, end) (and to `nodes`), or None when no row is left."""
    frame = pl.read_csv(path.read_bytes(), infer_schema=False)
    column = next(c for c in _START_COLUMNS if c in frame.columns)
    starts = frame[column].str.to_datetime("%Y-%m-%dT%H:%M:%S%:z", time_unit="us").dt.convert_time_zone("UTC")
    keep = (starts >= start) & (starts < end)
    if nodes is not None and "NODE" in frame.columns:
        keep = keep & frame["NODE"].is_in(nodes)
    cut = frame.filter(keep)
    if cut.height == 0:
        return None
    return cut.write_csv().encode()


def _single_zip(roots: list[Path]) -> Route:
    def handle(request: ReplayRequest) -> Reply | None:
        query = request.param("queryname") or ""
        run = request.param("market_run_id") or ""
        version = request.param("version") or "1"
        start, end = _oasis_time(request.param("startdatetime")), _oasis_time(request.param("enddatetime"))
        if not re.fullmatch(r"[A-Z_]+", query) or start is None or end is None or end <= start:
            invalid = NO_DATA_XML.replace("1000", "1002").replace(
                "No data returned for the specified selection", "Invalid request parameters"
            )
            return _reply_zip("INVALID_REQUEST.xml.zip", "INVALID_REQUEST.xml", invalid.encode())
        trade_day = market_day_of("CAISO", start).strftime("%Y%m%d")
        path = find_file(roots, f"{query}_{run}_{trade_day}.csv")
        if path is None and (query, run) == ("PRC_LMP", "DAM"):
            path = find_file(roots, "seed.csv")
        node = request.param("node")
        nodes = node.split(",") if node else None
        rows = _rows(path, start, end, nodes) if path is not None else None
        stem = f"{start:%Y%m%d}_{end:%Y%m%d}_{query}_{run}"
        if rows is None:
            xml = NO_DATA_XML.format(now=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S-00:00"))
            return _reply_zip(f"{stem}_v{version}.xml.zip", f"{stem}_v{version}.xml", xml.encode())
        return _reply_zip(f"{stem}_v{version}.zip", f"{stem}_v{version}.csv", rows)

    return Route(re.compile(r"/oasisapi/SingleZip"), handle)


def routes(roots: list[Path]) -> list[Route]:
    """Routes imitating oasis.caiso.com, serving OASIS CSVs found under `roots` as SingleZip answers."""
    return [_single_zip(roots)]
