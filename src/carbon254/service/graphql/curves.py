"""GraphQL `markCurve`: mark a hub's forward curve from quotes, as `POST /v1/curves` does.

The same call (`carbon254.application.curves.mark_curve`), so a mark is
refused for the same reasons with the same codes (`CONTRADICTORY_QUOTES`
naming the quotes, `INVALID_QUOTES`, `INVALID_PARAMETER`, `NOT_ENTITLED`
without the `curves` feature) and stored as the same next version. The
reads of marks are the generated `curve`, `curveHpfc`, ... fields.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from carbon254.application.curves import (
    mark_curve,
    months_document,
    parse_day,
    parse_month,
    quotes_from_json,
)
from carbon254.application.errors import ApiError, renamed
from carbon254.service.graphql.context import GraphQLContext
from carbon254.service.graphql.errors import from_api_error

GraphQLInfo = Info[GraphQLContext, None]


@strawberry.input(description="One quote: a contract by its dates (or market name) and block, and its price.")
class QuoteInput:
    block: str = strawberry.field(description="onpeak, offpeak, atc, 2x16 or 7x8.")
    price: float = strawberry.field(description="Quoted price, $/MWh.")
    start: str | None = strawberry.field(default=None, description="First delivery day, YYYY-MM-DD.")
    end: str | None = strawberry.field(default=None, description="Delivery day to stop before, YYYY-MM-DD.")
    contract: str | None = strawberry.field(
        default=None, description="The contract by name instead of dates: BOM, Jan27, Q1 27, Cal27, ..."
    )


@strawberry.type(description="One delivery month and block of a marked curve.")
class MarkedMonth:
    month: str = strawberry.field(description="Delivery month, YYYY-MM.")
    block: str
    price: float = strawberry.field(description="$/MWh.")


@strawberry.type(description="A redundant quote: the price ($/MWh) the other quotes already imply for it.")
class ImpliedQuote:
    quote: str
    implied_price: float


@strawberry.type(description="A mark as stored: its version of the day, monthly prices and redundant quotes.")
class CurveMark:
    iso: str
    hub: str
    as_of: str
    version: int
    simulated: bool
    quoted_through: str
    prior: str | None = strawberry.field(
        description="The seasonal shape of months inside longer contracts: history, front year or null."
    )
    months: list[MarkedMonth]
    implied: list[ImpliedQuote]


def _records(quotes: list[QuoteInput]) -> list[object]:
    """The quotes as the objects `POST /v1/curves` takes (fields left out stay out)."""
    fields = ("start", "end", "contract", "block", "price")
    return [{f: getattr(q, f) for f in fields if getattr(q, f) is not None} for q in quotes]


def resolve_mark_curve(
    info: GraphQLInfo,
    iso: str,
    hub: str,
    as_of: str,
    quotes: list[QuoteInput],
    through: str | None = None,
    prior: bool = True,
) -> CurveMark:
    context = info.context
    db = context.metadata()
    if db is None:
        raise RuntimeError("markCurve ran outside an app request: the metadata database is not open")
    try:
        day = parse_day("as_of", as_of)
        parsed = quotes_from_json(_records(quotes), day)
        until = parse_month("through", through) if through else None
        marked = mark_curve(
            db,
            context.caller(),
            iso=iso,
            hub=hub,
            as_of=day,
            quotes=parsed,
            through=until,
            store=context.store,
            settings=context.settings,
            use_prior=prior,
        )
    except ApiError as exc:
        raise from_api_error(renamed(exc, {"as_of": "asOf"})) from None
    curve = marked.curve
    return CurveMark(
        iso=curve.iso,
        hub=curve.hub,
        as_of=curve.as_of.isoformat(),
        version=marked.mark.version if marked.mark is not None else 0,
        simulated=curve.simulated,
        quoted_through=curve.quoted_through.isoformat(),
        prior=marked.prior,
        months=[
            MarkedMonth(month=str(m["month"]), block=str(m["block"]), price=float(m["price"]))  # type: ignore[arg-type]
            for m in months_document(curve)["months"]
        ],
        implied=[ImpliedQuote(quote=i.quote.name, implied_price=i.implied_price) for i in marked.implied],
    )


MARK_CURVE = strawberry.field(
    resolver=resolve_mark_curve,
    description="Mark a hub's forward curve from quotes ($/MWh) and store it as the day's next version; "
    "as `POST /v1/curves`.",
)
