"""ERCOT's servers imitated: MIS document listing and download, Public API pages, B2C token endpoint.

Files are ERCOT MIS files named as ERCOT names them,
`cdr.<8-digit report type id>.<16 zeros>.<YYYYMMDD>.<HHMMSS>.<FRIENDLY>[...].csv|zip`,
found anywhere under `roots`:

- `GET /misapp/servlets/IceDocListJsonWS?reportTypeId=<id>` lists every file of
  that report twice, as the `_csv` and the `_xml` document MIS posts; `DocID`
  is a checksum of the file name, `PublishDate` the name's posting time.
- `GET /misdownload/servlets/mirDownload?doclookupId=<DocID>` returns the CSV
  zipped (as MIS does; a stored zip is served unchanged); `_xml` ids are 404.
- `GET /api/public-reports/<emil>/<product>` serves the same files as Public
  API JSON pages (`_meta`, `fields`, `data`) with API-style field names and
  typed values, filtered by `<field>From`/`<field>To` and paged by
  `page`/`size`; it answers 401 without a bearer token this server issued
  and a subscription key.
- `POST /ercotb2c.onmicrosoft.com/B2C_1_PUBAPI-ROPC-FLOW/oauth2/v2.0/token`
  issues tokens (`replay-token-<n>`, one hour) for any username/password.
"""

from __future__ import annotations

import io
import json
import re
import threading
import zipfile
import zlib
from datetime import date, datetime
from pathlib import Path
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import polars as pl

from carbon254.isos.ercot.connector import Source
from carbon254.isos.ercot.frames import TZ
from carbon254.isos.ercot.reports import SOURCES
from carbon254.replay.server import ReplayRequest, Reply, Route

CDR = re.compile(r"^cdr\.(\d{8})\.\d{16}\.(\d{8})\.(\d{6})\.(.+?)\.(csv|zip)$", re.IGNORECASE)
TOKEN_PATH = "/ercotb2c.onmicrosoft.com/B2C_1_PUBAPI-ROPC-FLOW/oauth2/v2.0/token"
API_PREFIX = "/api/public-reports/"
_ZONE = ZoneInfo(TZ)


def _files(roots: list[Path], report_type_id: int | None = None) -> list[Path]:
    found = []
    for root in roots:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("cdr.*")):
            m = CDR.match(path.name)
            if path.is_file() and m and (report_type_id is None or int(m.group(1)) == report_type_id):
                found.append(path)
    return found


def doc_id(name: str) -> str:
    """The DocID the listing gives a stored file (a checksum of its name)."""
    return str(zlib.crc32(name.encode()))


def posted(path: Path) -> datetime:
    """The posting time (Central, aware) encoded in a `cdr.` file name."""
    m = CDR.match(path.name)
    if m is None:
        raise ValueError(f"{path.name} is not an ERCOT cdr file name")
    return datetime.strptime(m.group(2) + m.group(3), "%Y%m%d%H%M%S").replace(tzinfo=_ZONE)


def _stem(path: Path) -> str:
    return path.name.rsplit(".", 1)[0].removesuffix("_csv")


def _listing(roots: list[Path], request: ReplayRequest) -> Reply | None:
    rtid = request.param("reportTypeId")
    if rtid is None or not rtid.isdigit():
        return Reply(400, b"reportTypeId is required", {"Content-Type": "text/plain"})
    docs = []
    for path in _files(roots, int(rtid)):
        m = CDR.match(path.name)
        assert m is not None
        friendly = m.group(4).removesuffix("_csv")
        for kind in ("csv", "xml"):
            docs.append(
                {
                    "Document": {
                        "ReportTypeID": int(rtid),
                        "DocID": doc_id(path.name) + ("" if kind == "csv" else "9"),
                        "PublishDate": posted(path).isoformat(),
                        "ConstructedName": f"{_stem(path)}_{kind}.zip",
                        "FriendlyName": f"{friendly}_{kind}",
                        "ContentSize": path.stat().st_size,
                    }
                }
            )
    if not docs:
        return None
    body = json.dumps({"ListDocsByRptTypeRes": {"DocumentList": docs}}).encode()
    return Reply(200, body, {"Content-Type": "application/json"})


def _download(roots: list[Path], request: ReplayRequest) -> Reply | None:
    wanted = request.param("doclookupId")
    for path in _files(roots):
        if doc_id(path.name) != wanted:
            continue
        if path.suffix.lower() == ".zip":
            body = path.read_bytes()
        else:
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                zf.writestr(path.name, path.read_bytes())
            body = buf.getvalue()
        headers = {
            "Content-Type": "application/zip",
            "Content-Disposition": f'attachment; filename="{_stem(path)}_csv.zip"',
        }
        return Reply(200, body, headers)
    return None


def api_field(column: str) -> str:
    """The Public API's name for a CSV column: blanks dropped, first letter lower-cased unless an acronym."""
    name = re.sub(r"\s+", "", column)
    return name if name[:2].isupper() else name[:1].lower() + name[1:]


def _api_value(field: str, value: str | None) -> object:
    if value is None or value == "":
        return None
    if field.lower().endswith("flag") and value in ("Y", "N"):
        return value == "Y"
    if re.fullmatch(r"\d{2}/\d{2}/\d{4}", value):
        return datetime.strptime(value, "%m/%d/%Y").date().isoformat()
    if re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}", value):
        return datetime.strptime(value, "%m/%d/%Y %H:%M:%S").isoformat()
    if re.fullmatch(r"-?\d+", value) and not field.lower().startswith("hour"):
        return int(value)
    try:
        return float(value)
    except ValueError:
        return value


def api_rows(path: Path, with_posted: bool = False) -> tuple[list[str], list[list[object]]]:
    """A stored MIS CSV (or zipped CSV) as Public API fields and typed data rows."""
    data = path.read_bytes()
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            data = zf.read(zf.namelist()[0])
    frame = pl.read_csv(io.BytesIO(data), infer_schema=False)
    fields = [api_field(c) for c in frame.columns]
    rows = [
        [_api_value(f, None if v is None else v.strip()) for f, v in zip(fields, row, strict=True)]
        for row in frame.iter_rows()
    ]
    if with_posted:
        stamp = posted(path).replace(tzinfo=None).isoformat()
        fields.append("postedDatetime")
        rows = [[*r, stamp] for r in rows]
    return fields, rows


def _keep(fields: list[str], row: list[object], filters: dict[str, tuple[str | None, str | None]]) -> bool:
    for field, (low, high) in filters.items():
        value = str(row[fields.index(field)])
        if low is not None and value < low:
            return False
        # Dates are inclusive at both ends; timestamps end exclusively, as the API's window does.
        if high is not None and (value >= high if "T" in high else value > high):
            return False
    return True


def api_page(
    source: Source, roots: list[Path], params: dict[str, str], page: int, size: int
) -> dict[str, object]:
    """The JSON page the Public API answers for `source` with `params` (filters) at `page` of `size`."""
    with_posted = "postedDatetimeFrom" in source.api_params(date(2024, 1, 1))
    fields: list[str] = []
    rows: list[list[object]] = []
    for path in _files(roots, source.report_type_id):
        f, r = api_rows(path, with_posted)
        if fields and f != fields:
            continue  # another layout version of the report: the API serves one
        fields = f
        rows.extend(r)
    filters: dict[str, tuple[str | None, str | None]] = {}
    for name, value in params.items():
        for suffix, slot in (("From", 0), ("To", 1)):
            if name.endswith(suffix):
                field = next((x for x in fields if x.lower() == name[: -len(suffix)].lower()), None)
                if field is not None:
                    low, high = filters.get(field, (None, None))
                    filters[field] = (value, high) if slot == 0 else (low, value)
    kept = [r for r in rows if _keep(fields, r, filters)]
    total_pages = (len(kept) + size - 1) // size
    chunk = kept[(page - 1) * size : page * size]
    return {
        "_meta": {
            "totalRecords": len(kept),
            "pageSize": size,
            "totalPages": total_pages,
            "currentPage": page,
        },
        "report": {"reportEMILId": source.report.name},
        "fields": [{"name": f, "label": f, "cardinality": 0} for f in fields],
        "data": chunk,
    }


class _Tokens:
    """Tokens issued by the replay token endpoint."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.issued: set[str] = set()

    def issue(self) -> str:
        with self._lock:
            token = f"replay-token-{len(self.issued) + 1}"
            self.issued.add(token)
            return token


def _token(tokens: _Tokens, request: ReplayRequest) -> Reply:
    form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
    if form.get("grant_type") != "password" or not form.get("username") or not form.get("password"):
        return Reply(400, b'{"error": "invalid_request"}', {"Content-Type": "application/json"})
    token = tokens.issue()
    body = {"access_token": token, "id_token": token, "token_type": "Bearer", "expires_in": "3600"}
    return Reply(200, json.dumps(body).encode(), {"Content-Type": "application/json"})


def _api(tokens: _Tokens, roots: list[Path], request: ReplayRequest) -> Reply | None:
    bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
    if bearer not in tokens.issued or not request.headers.get("ocp-apim-subscription-key"):
        return Reply(
            401, b'{"statusCode": 401, "message": "Unauthorized"}', {"Content-Type": "application/json"}
        )
    path = request.path[len(API_PREFIX) :]
    source = next((s for s in SOURCES if s.api_path == path), None)
    if source is None:
        return None
    params = {k: v[0] for k, v in request.query.items() if v and k not in ("page", "size")}
    page = int(request.param("page", "1") or 1)
    size = int(request.param("size", "100000") or 100000)
    body = json.dumps(api_page(source, roots, params, page, size)).encode()
    return Reply(200, body, {"Content-Type": "application/json"})


def routes(roots: list[Path]) -> list[Route]:
    """The replay routes of ERCOT's MIS, Public API and token endpoint over the files under `roots`."""
    tokens = _Tokens()
    return [
        Route(re.compile(r"/misapp/servlets/IceDocListJsonWS"), lambda r: _listing(roots, r)),
        Route(re.compile(r"/misdownload/servlets/mirDownload"), lambda r: _download(roots, r)),
        Route(re.compile(re.escape(TOKEN_PATH)), lambda r: _token(tokens, r)),
        Route(re.compile(re.escape(API_PREFIX) + r"[a-z0-9-]+/\w+"), lambda r: _api(tokens, roots, r)),
    ]
