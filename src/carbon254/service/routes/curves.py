"""`POST /v1/curves`: mark a hub's forward curve from quotes (JSON or CSV), stored as a new version.

Thin over `application.curves.mark_curve`, as the CLI's `curve build` is.
The reads (`GET /v1/curves`, `/v1/curves/hpfc`, `/diff`, `/node`,
`/history`) are generated from their operation declarations.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from carbon254.application.curves import (
    MarkedCurve,
    mark_curve,
    months_document,
    parse_day,
    parse_month,
    quotes_from_csv,
    quotes_from_json,
)
from carbon254.application.errors import ApiError, bad_parameter
from carbon254.application.identity import Principal
from carbon254.config import Settings
from carbon254.metadata.database import MetadataDatabase
from carbon254.service.deps import get_settings, get_store
from carbon254.service.errors import error_responses
from carbon254.service.identity import CurrentPrincipal
from carbon254.store.base import Store

router = APIRouter(tags=["analytics"])

MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # ample for thousands of quotes; refuses a mistaken upload early


class MarkedMonth(BaseModel):
    """One month and block of a marked curve."""

    month: str = Field(description="Delivery month, YYYY-MM.")
    block: str = Field(description="Delivery block.")
    price: float = Field(description="$/MWh.")


class ImpliedOut(BaseModel):
    """A redundant quote: the others already determine its price (within tolerance)."""

    quote: str
    implied_price: float


class CurveMarked(BaseModel):
    """The mark as stored: which version, its monthly prices and the quotes found redundant."""

    iso: str
    hub: str
    as_of: str
    version: int
    simulated: bool
    quoted_through: str
    prior: str | None = Field(
        description="The seasonal shape of months inside longer contracts: history, front year or null."
    )
    months: list[MarkedMonth]
    implied: list[ImpliedOut]


def _metadata(request: Request) -> MetadataDatabase:
    db: MetadataDatabase = request.app.state.metadata
    return db


@router.post(
    "/v1/curves",
    status_code=201,
    summary="Mark a forward curve from quotes",
    responses=error_responses(401, 403, 404, 413, 422),
)
async def post_curve(
    request: Request,
    principal: CurrentPrincipal,
    store: Annotated[Store, Depends(get_store)],
    settings: Annotated[Settings, Depends(get_settings)],
    iso: Annotated[str | None, Query(description="ISO/RTO (for a CSV body; a JSON body carries it).")] = None,
    hub: Annotated[str | None, Query(description="The hub (for a CSV body).")] = None,
    as_of: Annotated[
        str | None, Query(description="Market day of the marks, YYYY-MM-DD (for a CSV body).")
    ] = None,
    through: Annotated[str | None, Query(description="Extend the curve to this month, YYYY-MM.")] = None,
    prior: Annotated[
        bool, Query(description="Shape months quoted only in strips by the hub's stored seasonality.")
    ] = True,
) -> CurveMarked:
    """Fit and store a hub's curve; the body is JSON `{iso, hub, as_of, quotes, through?, prior?}` or a CSV.

    A CSV body (`Content-Type: text/csv`) has columns `start,end,block,price`
    (or `contract,block,price`) and takes iso, hub, as_of (and through,
    prior) as query parameters. Each quote's price equals the hours-weighted average of its
    months' prices; contradictory quotes are refused (422) naming them.
    """
    body = await request.body()
    if len(body) > MAX_UPLOAD_BYTES:
        raise ApiError(413, "too_large", f"quotes: the body is over {MAX_UPLOAD_BYTES // 1024 // 1024} MB")
    fields = _fields(request.headers.get("content-type", ""), body, iso, hub, as_of, through, prior)
    db = _metadata(request)
    marked = await run_in_threadpool(lambda: _mark(db, principal, store, settings, fields))
    return _out(marked)


def _fields(
    content_type: str,
    body: bytes,
    iso: str | None,
    hub: str | None,
    as_of: str | None,
    through: str | None,
    prior: bool,
) -> dict[str, Any]:
    """iso, hub, as_of, quotes and through from a JSON or CSV body; 422 naming what is missing."""
    if content_type.split(";")[0].strip().lower() in ("text/csv", "text/plain"):
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise bad_parameter("quotes", "quotes: the CSV body is not UTF-8") from None
        given: dict[str, Any] = {"iso": iso, "hub": hub, "as_of": as_of, "through": through, "csv": text}
        given["prior"] = prior
    else:
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise bad_parameter("quotes", "quotes: the body is neither JSON nor text/csv") from None
        if not isinstance(parsed, dict):
            raise bad_parameter("quotes", "quotes: the JSON body must be an object {iso, hub, as_of, quotes}")
        given = {"iso": parsed.get("iso", iso), "hub": parsed.get("hub", hub)}
        given |= {"as_of": parsed.get("as_of", as_of), "through": parsed.get("through", through)}
        given["prior"] = parsed.get("prior", prior)
        if not isinstance(given["prior"], bool):
            raise bad_parameter("prior", "prior: true or false (whether to use the hub's seasonal shape)")
        if not isinstance(parsed.get("quotes"), list):
            raise bad_parameter("quotes", "quotes: a list of {start, end, block, price} objects is required")
        given["records"] = parsed["quotes"]
    for name in ("iso", "hub", "as_of"):
        if not isinstance(given[name], str) or not given[name].strip():
            raise bad_parameter(name, f"{name}: required")
    # A JSON body may carry any type; only text reaches the month parser.
    if given["through"] is not None and not isinstance(given["through"], str):
        raise bad_parameter("through", "through: a month as text, YYYY-MM")
    return given


def _mark(
    db: MetadataDatabase, principal: Principal, store: Store, settings: Settings, fields: dict[str, Any]
) -> MarkedCurve:
    day = parse_day("as_of", fields["as_of"])
    quotes = (
        quotes_from_csv(fields["csv"], day) if "csv" in fields else quotes_from_json(fields["records"], day)
    )
    through = parse_month("through", fields["through"]) if fields.get("through") else None
    return mark_curve(
        db,
        principal,
        iso=fields["iso"],
        hub=fields["hub"],
        as_of=day,
        quotes=quotes,
        through=through,
        store=store,
        settings=settings,
        use_prior=fields.get("prior", True) is not False,
    )


def _out(marked: MarkedCurve) -> CurveMarked:
    curve = marked.curve
    return CurveMarked(
        iso=curve.iso,
        hub=curve.hub,
        as_of=curve.as_of.isoformat(),
        version=marked.mark.version if marked.mark is not None else 0,
        simulated=curve.simulated,
        quoted_through=curve.quoted_through.isoformat(),
        prior=marked.prior,
        months=[MarkedMonth(**m) for m in months_document(curve)["months"]],  # type: ignore[arg-type]
        implied=[ImpliedOut(quote=i.quote.name, implied_price=i.implied_price) for i in marked.implied],
    )
