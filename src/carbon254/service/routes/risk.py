"""Risk portfolios over HTTP (`POST/GET /v1/risk/portfolios`) and the VaR backtest chart (PNG).

Thin over `application.risk` (saving and reading books) and the
`risk_backtest` operation (the chart draws its rows with
`reports.risk_chart`). The measures themselves (`/v1/risk/var`, `/es`,
`/attribution`, `/stress`, `/backtest`) are generated from their
declarations.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from carbon254.application.errors import ApiError, bad_parameter
from carbon254.application.identity import Principal
from carbon254.application.operations.risk import RISK_BACKTEST, BacktestRequest, run_backtest
from carbon254.application.risk import MAX_UPLOAD_BYTES, books, csv_from_records, find_book, save_book
from carbon254.config import Settings
from carbon254.metadata.database import MetadataDatabase
from carbon254.metadata.portfolios import PortfolioRecord
from carbon254.reports.risk_chart import backtest_png
from carbon254.service.deps import get_settings, get_store
from carbon254.service.errors import error_responses
from carbon254.service.identity import CurrentPrincipal
from carbon254.store.base import Store

router = APIRouter(tags=["analytics"])


class PortfolioSaved(BaseModel):
    """A stored portfolio version (without its positions)."""

    name: str
    version: int
    positions: int = Field(description="How many positions the file holds.")
    digest: str = Field(description="SHA-256 of the stored position file.")
    created_at: str = Field(description="When this version was saved, UTC ISO-8601.")


class PortfolioOut(PortfolioSaved):
    """A stored portfolio version with its position file (CSV text)."""

    csv: str = Field(description="The position file as saved.")


def _saved(record: PortfolioRecord) -> PortfolioSaved:
    return PortfolioSaved(
        name=record.name,
        version=record.version,
        positions=record.positions,
        digest=record.digest,
        created_at=record.created_at.isoformat(),
    )


def _metadata(request: Request) -> MetadataDatabase:
    db: MetadataDatabase = request.app.state.metadata
    return db


def _body_fields(content_type: str, body: bytes, name: str | None) -> tuple[str, str]:
    """The name and position-file text of a CSV or JSON body; 422 naming what is missing or malformed."""
    if content_type.split(";")[0].strip().lower() in ("text/csv", "text/plain"):
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise bad_parameter("positions", "positions: the CSV body is not UTF-8") from None
    else:
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise bad_parameter("positions", "positions: the body is neither JSON nor text/csv") from None
        if not isinstance(parsed, dict):
            raise bad_parameter("positions", "positions: the JSON body must be an object {name, positions}")
        given = parsed.get("name", name)
        name = given if isinstance(given, str) else None
        if isinstance(parsed.get("csv"), str):
            text = parsed["csv"]
        elif isinstance(parsed.get("positions"), list):
            text = csv_from_records(parsed["positions"])
        else:
            raise bad_parameter(
                "positions", "positions: give `positions` (a list of objects) or `csv` (the file's text)"
            )
    if not name or not name.strip():
        raise bad_parameter("name", "name: required (a query parameter for a CSV body)")
    return name, text


@router.post(
    "/v1/risk/portfolios",
    status_code=201,
    summary="Save a risk portfolio (a position file) as a new version",
    responses=error_responses(401, 403, 413, 422),
)
async def post_portfolio(
    request: Request,
    principal: CurrentPrincipal,
    name: Annotated[str | None, Query(description="The portfolio's name (for a CSV body).")] = None,
) -> PortfolioSaved:
    """Check and store a position file; the body is CSV (`Content-Type: text/csv`) or JSON.

    CSV columns are those of a position file: id, book, kind (forward,
    basis, load), iso, location, start, end and, by kind, hub, block, mw,
    price, volume_mwh, shape. JSON is `{"name", "positions": [{...}, ...]}`
    with the same fields, or `{"name", "csv": "..."}`. A file with any bad
    line is refused whole (422 listing every line and field); saving a name
    again adds a version.
    """
    body = await request.body()
    if len(body) > MAX_UPLOAD_BYTES:
        raise ApiError(413, "too_large", f"positions: the body is over {MAX_UPLOAD_BYTES // 1024 // 1024} MB")
    given, text = _body_fields(request.headers.get("content-type", ""), body, name)
    db = _metadata(request)
    record = await run_in_threadpool(save_book, db, principal, given, text)
    return _saved(record)


@router.get(
    "/v1/risk/portfolios",
    summary="The tenant's risk portfolios (latest version of each)",
    responses=error_responses(401, 403),
)
async def get_portfolios(request: Request, principal: CurrentPrincipal) -> list[PortfolioSaved]:
    """Every portfolio of the caller's tenant at its latest version, by name."""
    db = _metadata(request)
    return [_saved(r) for r in await run_in_threadpool(books, db, principal)]


@router.get(
    "/v1/risk/portfolios/{name}",
    summary="One risk portfolio with its position file",
    responses=error_responses(401, 403, 404, 422),
)
async def get_portfolio(
    request: Request,
    principal: CurrentPrincipal,
    name: str,
    version: Annotated[int | None, Query(description="A version (default: the latest).")] = None,
) -> PortfolioOut:
    """The portfolio `name` (latest version unless `version`), with its positions as CSV text."""
    db = _metadata(request)
    record, _ = await run_in_threadpool(find_book, db, principal, name, version, "name")
    return PortfolioOut(**_saved(record).model_dump(), csv=record.csv)


def _chart(
    store: Store, settings: Settings, principal: Principal, metadata: Any, request: BacktestRequest
) -> bytes:
    call = RISK_BACKTEST.call(store, settings, principal, request, metadata)
    inputs, _ = call.read(store)
    run = run_backtest(call.checked, inputs)
    plan = call.checked.plan
    title = (
        f"{plan.record.name} v{plan.record.version}: {run.result.x} exceedances in {run.result.n} days, "
        f"Basel {run.result.basel_zone.value}"
    )
    return backtest_png(run.dates, run.pnl, run.var, title, call.checked.confidence)


@router.get(
    "/v1/risk/backtest/chart",
    summary="Chart a VaR backtest: daily P&L, the VaR line and the exceedances (PNG)",
    responses=error_responses(401, 403, 404, 422),
    response_class=Response,
)
async def get_backtest_chart(
    request: Request,
    principal: CurrentPrincipal,
    store: Annotated[Store, Depends(get_store)],
    settings: Annotated[Settings, Depends(get_settings)],
    portfolio: Annotated[str, Query(description="A saved portfolio's name.")],
    version: Annotated[int | None, Query(description="Its version (default: the latest).")] = None,
    as_of: Annotated[str | None, Query(description="Market day the history ends on (default today).")] = None,
    confidence: Annotated[float, Query(description="Confidence level.")] = 0.99,
    window: Annotated[int, Query(description="Days each day's VaR is estimated on.")] = 100,
    days: Annotated[int, Query(description="Days tested.")] = 250,
) -> Response:
    """The `GET /v1/risk/backtest` of the same parameters as a PNG."""
    try:
        parsed = BacktestRequest(
            portfolio=portfolio, version=version, as_of=as_of, confidence=confidence, window=window, days=days
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise bad_parameter(str(first["loc"][0]), f"{first['loc'][0]}: {first['msg']}") from None
    metadata = _metadata(request)
    png = await run_in_threadpool(_chart, store, settings, principal, metadata, parsed)
    return Response(png, media_type="image/png")
