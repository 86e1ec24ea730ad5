"""ERCOT downloads: MIS document service (no auth) or the Public API (when credentials are set).

MIS: `IceDocListJsonWS?reportTypeId=<id>` lists the documents MIS still
holds (a rolling window of days); the `_csv` documents whose data belongs to
the requested market day are fetched from `mirDownload?doclookupId=<DocID>`
(a zip holding one CSV), oldest first so a `_retry_` re-post comes after the
file it corrects. A daily report is matched by its `PublishDate` (the DAM is
posted the day before delivery, actual load the day after); an interval
report by the timestamp in its friendly name (`..._YYYYMMDD_HHMM[SS]`), which
is the interval end for NP6-905-CD and the SCED run time otherwise.

Public API: `GET <api_base>/<emil>/<product>` with the report's date filter
and `page`/`size`, following `_meta.totalPages`; each page is one payload.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from carbon254.isos import Iso
from carbon254.isos.ercot.api import ErcotTokenAuth
from carbon254.isos.ercot.frames import TZ
from carbon254.isos.ercot.settings import ErcotSettings
from carbon254.markets.connector import DownloadTarget, Payload
from carbon254.markets.report import Report
from carbon254.markets.transport import FetchError, IsoClient
from carbon254.schema import Dataset

LIST_URL = "https://www.ercot.com/misapp/servlets/IceDocListJsonWS"
DOWNLOAD_URL = "https://www.ercot.com/misdownload/servlets/mirDownload"
STAMP = re.compile(r"_(\d{8})_(\d{4})(\d{2})?(?=_|$)")
_ZONE = ZoneInfo(TZ)


@dataclass(frozen=True, slots=True)
class Source:
    """Where one report comes from: its MIS report type id, API product and day-matching rule.

    Daily reports set `publish_offset_days` (PublishDate's local date minus
    the market day); interval reports set `stamp_lag` (subtracted from the
    friendly-name timestamp before taking its local date). `api_params`
    gives the Public API filter for a market day.
    """

    report: Report
    market: str
    report_type_id: int
    api_path: str
    api_params: Callable[[date], dict[str, str]]
    publish_offset_days: int | None = None
    stamp_lag: timedelta | None = None


def delivery_date_params(day: date) -> dict[str, str]:
    """API filter on the delivery date (DAM, RT SPP, AS, forecasts by delivery day)."""
    return {"deliveryDateFrom": day.isoformat(), "deliveryDateTo": day.isoformat()}


def oper_day_params(day: date) -> dict[str, str]:
    """API filter on the operating day (actual load reports)."""
    return {"operDayFrom": day.isoformat(), "operDayTo": day.isoformat()}


def sced_params(day: date) -> dict[str, str]:
    """API filter on the SCED timestamp, the local day [00:00, next 00:00)."""
    nxt = day + timedelta(days=1)
    return {
        "SCEDTimestampFrom": f"{day.isoformat()}T00:00:00",
        "SCEDTimestampTo": f"{nxt.isoformat()}T00:00:00",
    }


def posted_params(day: date) -> dict[str, str]:
    """API filter on the posting time: every forecast issued on the local day."""
    nxt = day + timedelta(days=1)
    return {
        "postedDatetimeFrom": f"{day.isoformat()}T00:00:00",
        "postedDatetimeTo": f"{nxt.isoformat()}T00:00:00",
    }


@dataclass(frozen=True, slots=True)
class Document:
    """One entry of an MIS listing."""

    doc_id: str
    published_at: datetime
    constructed_name: str
    friendly_name: str

    @property
    def is_csv(self) -> bool:
        return self.friendly_name.lower().endswith("csv") or self.constructed_name.lower().endswith("csv.zip")

    def local_stamp(self) -> datetime:
        """The friendly-name timestamp (local, naive), else the publication time in local time."""
        found = STAMP.search(self.friendly_name) or STAMP.search(self.constructed_name)
        if found is None:
            return self.published_at.astimezone(_ZONE).replace(tzinfo=None)
        return datetime.strptime(found.group(1) + found.group(2) + (found.group(3) or "00"), "%Y%m%d%H%M%S")


def _published(value: object) -> datetime:
    when = datetime.fromisoformat(str(value))
    return when.replace(tzinfo=_ZONE) if when.tzinfo is None else when


def parse_listing(body: bytes, url: str) -> list[Document]:
    """Documents of an `IceDocListJsonWS` answer; raises `FetchError` when it is not that JSON."""
    try:
        listing = json.loads(body)["ListDocsByRptTypeRes"]
        entries = listing.get("DocumentList") or []
        if isinstance(entries, dict):  # a single document is not wrapped in a list
            entries = [entries]
        docs = []
        for entry in entries:
            d = entry.get("Document", entry)
            docs.append(
                Document(
                    str(d["DocID"]),
                    _published(d["PublishDate"]),
                    str(d["ConstructedName"]),
                    str(d.get("FriendlyName", "")),
                )
            )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise FetchError(url, f"MIS listing is not the expected JSON ({exc})") from None
    return docs


def documents_for(source: Source, docs: list[Document], day: date) -> list[Document]:
    """The CSV documents holding `day`'s data, oldest publication first."""
    picked = []
    for doc in docs:
        if not doc.is_csv:
            continue
        if source.publish_offset_days is not None:
            local = doc.published_at.astimezone(_ZONE).date()
            if local == day + timedelta(days=source.publish_offset_days):
                picked.append(doc)
        elif (doc.local_stamp() - (source.stamp_lag or timedelta(0))).date() == day:
            picked.append(doc)
    return sorted(picked, key=lambda d: (d.published_at, d.doc_id))


def download_targets(sources: tuple[Source, ...]) -> tuple[DownloadTarget, ...]:
    """The (dataset, market) pairs `sources` download, with their reports."""
    return tuple(DownloadTarget(s.report.dataset, s.market, s.report) for s in sources)


class ErcotConnector:
    """Downloads ERCOT reports for a market day (Central time), MIS or Public API per `settings`.

    `auth` is the token auth to give the `IsoClient` when the API is used
    (None otherwise); one instance is shared so its token is reused.
    """

    iso = Iso.ERCOT

    def __init__(
        self, sources: tuple[Source, ...], settings: ErcotSettings | None = None, page_size: int = 100_000
    ) -> None:
        self.sources = sources
        self.settings = settings or ErcotSettings()
        self.page_size = page_size
        self.auth: ErcotTokenAuth | None = (
            ErcotTokenAuth(self.settings) if self.settings.api_enabled else None
        )

    @property
    def targets(self) -> tuple[DownloadTarget, ...]:
        """Every (dataset, market) this connector downloads."""
        return download_targets(self.sources)

    def source(self, dataset: Dataset, market: str) -> Source:
        """The source for (dataset, market); raises KeyError naming what exists."""
        for s in self.sources:
            if s.report.dataset is dataset and s.market == market:
                return s
        offered = ", ".join(f"{s.report.dataset.value}/{s.market}" for s in self.sources)
        raise KeyError(f"ERCOT has no download for {dataset.value}/{market}; it offers: {offered}")

    def fetch(self, client: IsoClient, dataset: Dataset, market: str, day: date) -> Iterator[Payload]:
        """Yield the payloads holding `day` for (dataset, market); nothing when none is published yet."""
        source = self.source(dataset, market)
        if self.settings.api_enabled:
            yield from self._fetch_api(client, source, day)
        else:
            yield from self._fetch_mis(client, source, day)

    def _fetch_mis(self, client: IsoClient, source: Source, day: date) -> Iterator[Payload]:
        try:
            listing = client.get(LIST_URL, params={"reportTypeId": source.report_type_id})
        except FetchError as exc:
            if exc.status == 404:
                return
            raise
        for doc in documents_for(source, parse_listing(listing.content, listing.url), day):
            try:
                resp = client.get(DOWNLOAD_URL, params={"doclookupId": doc.doc_id})
            except FetchError as exc:
                if exc.status == 404:  # aged out of MIS between listing and download
                    continue
                raise
            name = resp.filename() or doc.constructed_name
            yield Payload(name, resp.content, source.report, resp.url, doc.published_at)

    def _fetch_api(self, client: IsoClient, source: Source, day: date) -> Iterator[Payload]:
        url = f"{self.settings.api_url}/{source.api_path}"
        page, total = 1, 1
        while page <= total:
            params: dict[str, str | int] = {**source.api_params(day), "page": page, "size": self.page_size}
            try:
                resp = client.get(url, params=params)
            except FetchError as exc:
                if exc.status == 404 and page == 1:
                    return
                raise
            try:
                body = json.loads(resp.content)
                total = int(body.get("_meta", {}).get("totalPages", 1))
                rows = body.get("data") or []
            except (ValueError, TypeError, AttributeError) as exc:
                raise FetchError(resp.url, f"API page is not the expected JSON ({exc})") from None
            if not rows:
                return
            name = f"{source.api_path.replace('/', '_')}_{day:%Y%m%d}_p{page}.json"
            yield Payload(name, resp.content, source.report, resp.url)
            page += 1
