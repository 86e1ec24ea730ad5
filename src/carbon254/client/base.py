"""What `Client` and `AsyncClient` share: connection settings, request building, chunk plans, decoding.

Both clients are thin: each method builds a `queries` model, and this
module turns it into HTTP requests (Arrow IPC for tables, JSON for the
rest) and the answers into frames or models. Only the sending differs
(blocking, or awaited), so a method added to one is a few lines in the other.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pyarrow as pa

from carbon254.client.config import resolve_connection
from carbon254.client.frames import FrameKind, check_frame, read_ipc, to_pandas, to_polars
from carbon254.client.queries import LmpQuery, Query, split_window
from carbon254.client.transport import RetryPolicy

ARROW_MEDIA_TYPE = "application/vnd.apache.arrow.stream"
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_CONCURRENCY = 4
# Automatic pieces hold about this many rows: big enough that a year of hourly
# prices for dozens of locations is one request (each piece costs the service
# a read of the same files), small enough to split years of 5-minute prices.
ROWS_PER_PIECE = 1_000_000
# Intervals per day by market name, to size pieces; unknown markets count as 5-minute.
INTERVALS_PER_DAY = {"DAM": 24, "RTH": 24, "RT15": 96, "RT5": 288}
# Locations assumed when a query names none (every location of the ISO).
ALL_LOCATIONS_GUESS = 1_000
# Sort keys of stitched LMP chunks: the service's own order, location then time.
LMP_ORDER = [("location", "ascending"), ("interval_start", "ascending")]

Progress = Callable[[int, int], None]


def _version() -> str:
    try:
        return version("carbon254")
    except PackageNotFoundError:
        try:
            return version("carbon254-client")
        except PackageNotFoundError:
            return "0+unknown"


def stderr_progress(label: str) -> Progress:
    """A progress callback drawing `label done/total` on one stderr line."""

    def show(done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        end = "\n" if done >= total else ""
        sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}{end}")
        sys.stderr.flush()

    return show


class ClientSettings:
    """How a client reaches the service: base URL, credentials, timeouts, retries and chunking.

    `api_key` (else `CARBON254_API_KEY`, else the config file) is sent as
    `X-API-Key`; `auth` (an `httpx.Auth`, e.g. `oidc.ClientCredentials`)
    replaces it for OIDC. `timeout_s` bounds each request, `retries` the
    extra attempts on 5xx, 429 and lost connections. Long LMP windows are
    fetched in pieces of `chunk_days` days (None: sized to about
    `ROWS_PER_PIECE` rows), `max_concurrency` at a time.
    """

    def __init__(
        self,
        base_url: str | None,
        api_key: str | None,
        auth: httpx.Auth | None,
        timeout_s: float,
        retries: int,
        chunk_days: int | None,
        max_concurrency: int,
        config: str | Path | None,
    ) -> None:
        if (
            (chunk_days is not None and chunk_days < 1)
            or max_concurrency < 1
            or retries < 0
            or timeout_s <= 0
        ):
            raise ValueError("chunk_days and max_concurrency must be >= 1, retries >= 0, timeout_s > 0")
        connection = resolve_connection(base_url, api_key, config)
        self.base_url = connection.base_url
        self.api_key = connection.api_key
        self.auth = auth
        self.timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0))
        self.retry = RetryPolicy(retries=retries)
        self.chunk_days = chunk_days
        self.max_concurrency = max_concurrency

    def headers(self) -> dict[str, str]:
        """Headers of every request: the user agent, and the API key unless an `auth` flow is set."""
        headers = {"User-Agent": f"carbon254-client/{_version()}"}
        if self.api_key and self.auth is None:
            headers["X-API-Key"] = self.api_key
        return headers

    def table_request(self, client: httpx.Client | httpx.AsyncClient, query: Query) -> httpx.Request:
        """The GET of `query` answered as an Arrow IPC stream."""
        params = {**query.params(), "format": "arrow"}
        return client.build_request("GET", query.path, params=params, headers={"Accept": ARROW_MEDIA_TYPE})

    def json_request(self, client: httpx.Client | httpx.AsyncClient, query: Query) -> httpx.Request:
        """The GET of `query` answered as JSON."""
        return client.build_request("GET", query.path, params=query.params())

    def pieces(self, query: Query) -> list[Query]:
        """`query` cut by time into windows of `chunk_days` days (LMP without resampling only).

        Without `chunk_days` a piece spans about `ROWS_PER_PIECE` rows by the
        market's interval length and the number of locations. A resampled
        answer averages over calendar buckets that a cut could split, so it
        is fetched whole; so are the other datasets.
        """
        if not isinstance(query, LmpQuery) or query.resample is not None:
            return [query]
        days = self.chunk_days
        if days is None:
            locations = len(query.locations) if query.locations is not None else ALL_LOCATIONS_GUESS
            per_day = INTERVALS_PER_DAY.get(query.market.strip().upper(), max(INTERVALS_PER_DAY.values()))
            days = max(1, ROWS_PER_PIECE // (locations * per_day))
        windows = split_window(query.start, query.end, days)
        return [query.model_copy(update={"start": s, "end": e}) for s, e in windows]

    def stream_url(self) -> str:
        """The WebSocket URL of `/v1/stream` (wss:// for an https service)."""
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return urlunsplit((scheme, parts.netloc, f"{parts.path}/v1/stream", "", ""))

    def stream_headers(self, probe: httpx.Response | None) -> dict[str, str]:
        """The stream handshake's headers: the API key, or the bearer token `probe` was sent with.

        With an `auth` flow (OIDC) the caller first sends any request through
        it (`probe`), which attaches a fresh token; the stream reuses that.
        """
        headers = self.headers()
        if probe is not None and "Authorization" in probe.request.headers:
            headers["Authorization"] = probe.request.headers["Authorization"]
        return headers


def progress_callback(progress: bool | Progress, label: str, total: int) -> Progress | None:
    """The callback `progress` asks for: None (off), the stderr bar (True), or the caller's own."""
    if progress is False or total <= 1:
        return None
    return stderr_progress(label) if progress is True else progress


def stitch(query: Query, tables: list[pa.Table]) -> pa.Table:
    """The pieces of one query as one table in the service's order."""
    if len(tables) == 1:
        return tables[0]
    combined = pa.concat_tables(tables)
    return combined.sort_by(LMP_ORDER) if isinstance(query, LmpQuery) else combined


def as_frame(table: pa.Table, frame: FrameKind) -> Any:
    """`table` as the frame asked for."""
    kind = check_frame(frame)
    if kind == "arrow":
        return table
    return to_pandas(table) if kind == "pandas" else to_polars(table)


def decode_table(response: httpx.Response) -> pa.Table:
    """The Arrow table of an answer."""
    return read_ipc(response.content)
