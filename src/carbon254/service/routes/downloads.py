"""`GET /v1/downloads/{id}`: a finished job's file, through a signed link that expires.

The link comes from the job's `result.download_url`. The caller must
authenticate as usual and belong to the tenant the link was signed for (a
link used by another tenant is refused, 403). The file streams from the
object store in chunks with `Content-Length` and `Accept-Ranges: bytes`; a
single `Range: bytes=...` is answered 206 with that slice (416 when it lies
outside the file), so an interrupted download resumes where it stopped.
A file the retention sweep deleted is 410 Gone, saying when. Every
download, refused or not, is audit-logged with its tenant.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from starlette.responses import Response, StreamingResponse

from carbon254.application.errors import ApiError
from carbon254.application.jobs import download_artifact
from carbon254.config import Settings
from carbon254.jobs import JobState, JobStatus, UnknownJob
from carbon254.objects.base import ObjectNotFound, ObjectStore
from carbon254.service.audit import audit_action
from carbon254.service.deps import get_settings
from carbon254.service.download_links import check_link
from carbon254.service.errors import error_responses
from carbon254.service.identity import CurrentPrincipal
from carbon254.service.jobs import get_job_state, get_objects
from carbon254.service.strict_query import StrictQueryRoute

router = APIRouter(prefix="/v1/downloads", tags=["jobs"], route_class=StrictQueryRoute)

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class UnsatisfiableRange(Exception):
    """A `Range` that asks for no byte of the file."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The `[start, end)` a `Range` header asks of a `size`-byte file; None to send the whole file.

    Handles one range (`bytes=a-b`, `bytes=a-`, `bytes=-n`); a header this
    does not understand, or one with several ranges, is ignored (the whole
    file is sent, as RFC 9110 allows). Raises `UnsatisfiableRange` for a
    range that starts past the end or asks for nothing.
    """
    if header is None:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise UnsatisfiableRange
        return max(0, size - suffix), size
    start = int(first)
    end = size if not last else min(size, int(last) + 1)
    if start >= size or (last and int(last) < start):
        raise UnsatisfiableRange
    return start, end


@router.get(
    "/{job_id}",
    summary="Download a finished job's file",
    responses={
        200: {"description": "The whole file.", "content": {"application/octet-stream": {}}},
        206: {"description": "The byte range asked for with `Range`."},
        410: {"description": "The link expired, or the file was deleted by retention."},
        416: {"description": "The `Range` lies outside the file."},
        **error_responses(401, 403, 404, 422),
    },
)
def get_download(
    job_id: Annotated[str, Path(description="The job's id.")],
    request: Request,
    principal: CurrentPrincipal,
    state: Annotated[JobState, Depends(get_job_state)],
    objects: Annotated[ObjectStore, Depends(get_objects)],
    settings: Annotated[Settings, Depends(get_settings)],
    expires: Annotated[int, Query(description="When the link expires (Unix seconds), as issued.")],
    signature: Annotated[str, Query(description="The link's signature, as issued.")],
    range_header: Annotated[str | None, Header(alias="range", include_in_schema=False)] = None,
) -> Response:
    """Stream the job's file (its `export` artifact, else its first) to the tenant the link was made for."""
    try:
        response = _download(
            job_id, principal.tenant, state, objects, settings, expires, signature, range_header
        )
    except ApiError as error:
        audit_action(request, "downloads.get", job_id, {}, status=error.status_code)
        raise
    audit_action(
        request,
        "downloads.get",
        job_id,
        {"bytes": response.headers["content-length"], "range": response.headers.get("content-range", "")},
        status=response.status_code,
    )
    return response


def _download(
    job_id: str,
    tenant: str,
    state: JobState,
    objects: ObjectStore,
    settings: Settings,
    expires: int,
    signature: str,
    range_header: str | None,
) -> Response:
    check_link(settings, job_id, tenant, expires, signature)
    try:
        job = state.get(job_id, tenant=tenant)
    except UnknownJob as exc:
        raise ApiError(404, "not_found", str(exc), "job_id") from None
    if job.expired_at is not None:
        raise ApiError(
            410,
            "gone",
            f"the file of job {job_id} was deleted at {job.expired_at.isoformat(timespec='seconds')}, "
            "when its retention ended; run the job again for a new one",
            "job_id",
        )
    key = download_artifact(job) if job.status is JobStatus.SUCCEEDED else None
    if key is None:
        raise ApiError(
            404, "not_found", f"job {job_id} has no file to download ({job.status.value})", "job_id"
        )
    try:
        size = objects.info(key).size
    except ObjectNotFound:
        raise ApiError(410, "gone", f"the file of job {job_id} is no longer kept", "job_id") from None
    name = key.rsplit("/", 1)[-1]
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Disposition": f'attachment; filename="{name}"',
    }
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    try:
        wanted = byte_range(range_header, size)
    except UnsatisfiableRange:
        headers["Content-Range"] = f"bytes */{size}"
        raise ApiError(
            416,
            "range_not_satisfiable",
            f"the range lies outside the file of {size} bytes",
            "range",
            headers=headers,
        ) from None
    start, end = wanted if wanted is not None else (0, size)
    headers["Content-Length"] = str(end - start)
    status = 200
    if wanted is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    body: Iterator[bytes] = objects.iter_bytes(key, start, end) if end > start else iter(())
    return StreamingResponse(body, status_code=status, headers=headers, media_type=media_type)
