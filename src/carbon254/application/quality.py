"""Data quality as `GET /v1/quality` and GraphQL's `quality` answer it: checked, entitled, assessed."""

from __future__ import annotations

import logging
from datetime import date

from pydantic import BaseModel

from carbon254 import names
from carbon254.application.catalog import resolve_iso, resolve_market
from carbon254.application.errors import BAD_PARAMETER_STATUS, ApiError, bad_parameter, not_found
from carbon254.application.identity import Principal, entitle_data
from carbon254.application.params import parse_window, required_text
from carbon254.config import Settings
from carbon254.ingest.ledger import IngestLedger
from carbon254.isos import Iso, iso_info
from carbon254.quality import DayQuality, MarketSummary, day_range, markets_of, quality_report
from carbon254.schema import Dataset, spec
from carbon254.store.base import Store

logger = logging.getLogger("carbon254.application")


class QualityQuery(BaseModel):
    """The request as understood: market days `first_day` to `end_day` (exclusive)."""

    iso: str | None
    dataset: str
    market: str | None
    first_day: date
    end_day: date


class QualityResponse(BaseModel):
    """One summary per (iso, dataset, market), then one row per market day."""

    query: QualityQuery
    summary: list[MarketSummary]
    days: list[DayQuality]
    count: int


def _market(store: Store, dataset: Dataset, isos: list[Iso], text: str | None, iso_given: bool) -> str | None:
    """The stored market asked for (None: every market); 404 if unknown, 422 if the dataset has none."""
    if text is None or not text.strip():
        return None
    spec_ = spec(dataset)
    if spec_.market_column is None:
        raise bad_parameter("market", f"{dataset.value} has no markets; omit market")
    if iso_given:
        return resolve_market(store, dataset, isos[0], text)
    known = sorted({m for iso in isos for m in markets_of(store, iso.value, dataset) if m is not None})
    try:
        return names.resolve_names(
            "market", f"{dataset.value} market", [text.strip()], known, suggest_all=True
        )[0]
    except names.UnknownName as exc:
        raise not_found(exc.parameter, exc.message, exc.suggestions) from None


def quality_answer(
    store: Store,
    settings: Settings,
    principal: Principal,
    *,
    start: str,
    end: str,
    iso: str | None,
    dataset: Dataset,
    market: str | None,
) -> QualityResponse:
    """The quality report `GET /v1/quality` answers, for REST and GraphQL alike.

    Limited to what `principal` may read: naming an ISO it may not read
    `dataset` of is a 403; without `iso`, only its entitled ISOs are
    assessed (a 403 when there are none). Raises `ApiError` for bad
    parameters (422) and unknown names (404).
    """
    iso_given = iso is not None and bool(iso.strip())
    if iso_given:
        isos = [resolve_iso(required_text("iso", iso or ""))]
        entitle_data(principal, isos[0].value, dataset.value)
    else:
        isos = [i for i in Iso if principal.entitlements.allows_data(i.value, dataset.value)]
        if not isos:
            raise ApiError(
                403,
                "not_entitled",
                f"tenant '{principal.tenant}' is not entitled to {dataset.value} data of any ISO",
            )
    zone = iso_info(isos[0].value).timezone if iso_given else "UTC"
    window = parse_window(start, end, zone, settings.max_range_days)
    first_day, end_day = day_range(zone, window.start, window.end)
    market_ = _market(store, dataset, isos, market, iso_given)
    ledger = IngestLedger(settings.data_dir)
    entries = list(ledger.entries(iso=isos[0].value if iso_given else None, dataset=dataset.value))
    try:
        report = quality_report(
            store,
            dataset,
            first_day,
            end_day,
            isos=[i.value for i in isos],
            market=market_,
            ledger=entries,
            skip_empty=not iso_given,
        )
    except ValueError as exc:
        logger.warning("quality refused a query: %s", exc)
        raise ApiError(BAD_PARAMETER_STATUS, "invalid_query", str(exc)) from None
    days = report.days
    return QualityResponse(
        query=QualityQuery(
            iso=isos[0].value if iso_given else None,
            dataset=dataset.value,
            market=market_,
            first_day=first_day,
            end_day=end_day,
        ),
        summary=report.summaries,
        days=days,
        count=len(days),
    )
