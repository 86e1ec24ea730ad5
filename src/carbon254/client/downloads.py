"""Downloading a job's file: streamed in chunks into a temporary file beside the target, renamed when whole.

Memory stays bounded by one network read whatever the file's size (in
local mode the in-process transport holds the answer whole first). A download never
leaves a half file under the target's name: the bytes go to a hidden
`.<name>.<random>.part` in the same directory, which is renamed over the
target only once every byte the service announced has arrived, and deleted
on any failure. A connection lost mid-file is retried as the client's
retry policy allows, asking with `Range` for the bytes still missing (the
download route answers 206 with them), so a retry does not start over.

The signed link is followed on the client's own base URL: a link naming
another host (the service behind a proxy sees its own address) keeps only
its path and query, so credentials never go to a host the client was not
pointed at.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import time
from pathlib import Path
from typing import BinaryIO

import httpx

from carbon254.client.errors import ServerError
from carbon254.client.transport import RetryPolicy, error_for, retryable, transport_error

_FILENAME = re.compile(r'filename="?([^";]+)"?', re.IGNORECASE)
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+)", re.IGNORECASE)


def link_target(base_url: str, download_url: str) -> str:
    """`download_url` as the client should request it: relative to `base_url`, on the client's own host."""
    base = base_url.rstrip("/")
    if download_url.startswith(base + "/"):
        return download_url[len(base) :]
    link = httpx.URL(download_url)
    return link.raw_path.decode("ascii")


def served_name(response: httpx.Response) -> str | None:
    """The file name the service gave (`Content-Disposition`), reduced to a bare name; None if unusable."""
    match = _FILENAME.search(response.headers.get("content-disposition", ""))
    if match is None:
        return None
    name = Path(match.group(1).strip().replace("\\", "/")).name
    return name if name not in ("", ".", "..") else None


class PartialFile:
    """The file a download is writing: where it goes, what has arrived, and its temporary copy.

    `path` is the file to write, or an existing directory to write the
    service's file name into. `begin` is called with each answer that
    carries bytes, `write` with its chunks; `commit` renames the complete
    file into place, `discard` deletes what was written.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        folder = self.path if self.path.is_dir() else self.path.parent
        if not folder.is_dir():
            raise FileNotFoundError(f"no directory {folder} to download into")
        self.target: Path | None = None
        self.written = 0
        self.size: int | None = None
        # Byte offsets (Range, Content-Length) count the bytes sent: only an uncompressed answer's match ours.
        self.identity = True
        self._temp: Path | None = None
        self._file: BinaryIO | None = None

    def headers(self) -> dict[str, str]:
        """The next request's headers: the file's own bytes, from the first one still missing.

        `identity` asks that no proxy compress the answer, so the byte
        offsets of `Range` and of what was written are the same (a
        compressed answer anyway is not resumed, but fetched again whole).
        """
        headers = {"Accept-Encoding": "identity"}
        if self.written and self.identity:
            headers["Range"] = f"bytes={self.written}-"
        return headers

    def begin(self, response: httpx.Response, fallback_name: str) -> None:
        """Start writing `response`: from the first byte for a 200, after those written for a 206."""
        if self._file is None:
            name = served_name(response) or fallback_name
            self.target = self.path / name if self.path.is_dir() else self.path
            handle, temp = tempfile.mkstemp(
                prefix=f".{self.target.name}.", suffix=".part", dir=self.target.parent
            )
            self._file = os.fdopen(handle, "wb")
            self._temp = Path(temp)
        if response.status_code == 206:
            found = _CONTENT_RANGE.match(response.headers.get("content-range", ""))
            if found is None or int(found.group(1)) != self.written:
                raise ServerError(
                    f"the service resent the file from an unexpected offset (asked {self.written})"
                )
            self.size = int(found.group(3))
            return
        self._file.seek(0)
        self._file.truncate()
        self.written = 0
        self.identity = response.headers.get("content-encoding", "identity").strip().lower() == "identity"
        length = response.headers.get("content-length")
        self.size = int(length) if self.identity and length is not None and length.isdigit() else None

    def write(self, chunk: bytes) -> None:
        """Append `chunk` to the temporary file."""
        assert self._file is not None, "begin() first"
        self._file.write(chunk)
        self.written += len(chunk)

    def commit(self) -> Path:
        """Rename the whole file over the target; its path. `ServerError` if bytes are missing."""
        assert self._file is not None and self._temp is not None and self.target is not None
        if self.size is not None and self.written != self.size:
            raise ServerError(f"the download ended after {self.written} of {self.size} bytes")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self._temp, self.target)
        self._file = self._temp = None
        return self.target

    def discard(self) -> None:
        """Close and delete the temporary file, if any (the target is left as it was)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._temp is not None:
            self._temp.unlink(missing_ok=True)
            self._temp = None


def download(http: httpx.Client, url: str, path: str | Path, policy: RetryPolicy, fallback_name: str) -> Path:
    """Stream `url` into `path` (see the module docstring); the written file's path."""
    partial = PartialFile(path)
    attempt = 0
    try:
        while True:
            request = http.build_request("GET", url, headers=partial.headers())
            failure: httpx.Response | None = None
            try:
                response = http.send(request, stream=True)
                try:
                    if response.is_success:
                        partial.begin(response, fallback_name)
                        for chunk in response.iter_bytes():
                            partial.write(chunk)
                        return partial.commit()
                    response.read()
                    failure = response
                finally:
                    response.close()
            except httpx.TransportError as exc:
                if attempt >= policy.retries or not retryable(request, exc):
                    raise transport_error(exc, request) from exc
            if failure is not None and (attempt >= policy.retries or not retryable(request, failure)):
                raise error_for(failure)
            time.sleep(policy.wait_s(attempt, failure))
            attempt += 1
    except BaseException:
        partial.discard()
        raise


async def download_async(
    http: httpx.AsyncClient, url: str, path: str | Path, policy: RetryPolicy, fallback_name: str
) -> Path:
    """`download` for an `httpx.AsyncClient`: file writes run in a thread, off the event loop."""
    partial = PartialFile(path)
    attempt = 0
    try:
        while True:
            request = http.build_request("GET", url, headers=partial.headers())
            failure: httpx.Response | None = None
            try:
                response = await http.send(request, stream=True)
                try:
                    if response.is_success:
                        partial.begin(response, fallback_name)
                        async for chunk in response.aiter_bytes():
                            await asyncio.to_thread(partial.write, chunk)
                        return await asyncio.to_thread(partial.commit)
                    await response.aread()
                    failure = response
                finally:
                    await response.aclose()
            except httpx.TransportError as exc:
                if attempt >= policy.retries or not retryable(request, exc):
                    raise transport_error(exc, request) from exc
            if failure is not None and (attempt >= policy.retries or not retryable(request, failure)):
                raise error_for(failure)
            await asyncio.sleep(policy.wait_s(attempt, failure))
            attempt += 1
    except BaseException:
        partial.discard()
        raise
