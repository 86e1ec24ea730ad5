"""What a PPA says: its price formula and the terms every PPA shares.

Each contract fixes, for every hour, the *contract price* c ($/MWh) the
seller is paid per MWh against the hour's market price p at the settlement
point:

- `FixedPrice`: c = strike.
- `Collar`: c = p clipped to [floor, cap]: the buyer's price floats with the
  market inside the band and is fixed at its edges.
- `IndexPlus` (hub-plus): c = p + adder.
- `FloatingDiscount`: c = p * (1 - discount), raised to `floor` when given.

How c turns into cash depends on `settlement`:

- virtual (a contract for differences; the generator sells its energy in the
  market itself): the buyer pays the seller nothing for energy and instead
  settles the difference, receiving mwh * (p - c) each hour (negative: it
  pays). Fixed: mwh * (p - strike); collar: mwh * (max(p - cap, 0) -
  max(floor - p, 0)); hub-plus: -adder * mwh (the index legs cancel); the
  seller's cash is the opposite.
- physical (energy delivered at the settlement point): the buyer pays the
  seller c * mwh for the energy, so the seller's cash is its revenue, c *
  mwh (hub-plus: index value + adder * volume), and the buyer's the opposite.

Both ways the buyer also pays `rec_price` per MWh for the renewable energy
certificates. Strike, floor, cap and adder grow by `escalator` (a fraction
per year) on each contract anniversary. The models forbid unknown fields
and parse from JSON as small as `{"type": "fixed", "strike": 45}`;
`parse_contract` turns validation failures into a `PpaError` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from carbon254.ppa.errors import PpaError

Settlement = Literal["virtual", "physical"]
NegativePrice = Literal["settle", "curtail"]
VolumeRule = Literal["as_generated", "baseload", "shaped", "proxy"]

MAX_TERM_YEARS = 25
# A fraction per year: 0.025 is 2.5%. Anything this large is almost surely a percent typed as a number.
MAX_ESCALATOR = 0.2


class _Terms(BaseModel):
    """The terms every PPA shares, with defaults so a contract needs only its type and price."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    settlement: Settlement = Field(
        default="virtual",
        description="virtual: a contract for differences settled against the market price; physical: "
        "energy delivered at the settlement point and paid at the contract price.",
    )
    settlement_point: str | None = Field(
        default=None, min_length=1, description="The hub or node the contract settles at (a label)."
    )
    start: date | None = Field(
        default=None,
        description="First day of delivery (UTC midnight); default the first hour valued. Anniversaries "
        "of this day step the escalator.",
    )
    term_years: int | None = Field(
        default=None,
        description="Length of delivery in years (1-25); hours outside the term settle nothing. "
        "Default: every hour valued from the start.",
    )
    escalator: float = Field(
        default=0.0,
        description="Growth of strike, floor, cap and adder per contract year, a fraction (0.02 = 2%).",
    )
    negative_price: NegativePrice = Field(
        default="settle",
        description="settle: hours with a negative price settle like any other; curtail: no volume "
        "settles in hours whose price is below zero.",
    )
    rec_price: float = Field(
        default=0.0, ge=0, description="Paid by the buyer to the seller per MWh for the RECs, $/MWh."
    )
    volume: VolumeRule = Field(
        default="as_generated",
        description="as_generated: the metered generation; baseload: a flat MW equal to the average "
        "generation over the term; shaped: a fixed calendar-month x hour-of-day (UTC) shape, the average "
        "generation of each cell; proxy: the proxy-generation series supplied (settled as given).",
    )

    @field_validator("term_years")
    @classmethod
    def _term(cls, years: int | None) -> int | None:
        if years is not None and not 1 <= years <= MAX_TERM_YEARS:
            raise ValueError(f"must be 1 to {MAX_TERM_YEARS} years, got {years}")
        return years

    @field_validator("escalator")
    @classmethod
    def _escalator(cls, rate: float) -> float:
        if not -MAX_ESCALATOR <= rate <= MAX_ESCALATOR:
            raise ValueError(
                f"{rate:g} is not a yearly fraction in [-{MAX_ESCALATOR:g}, {MAX_ESCALATOR:g}] "
                "(write 2.5% as 0.025)"
            )
        return rate


class FixedPrice(_Terms):
    """A fixed-price PPA: the seller is paid `strike` $/MWh (escalated) for every MWh settled."""

    type: Literal["fixed"] = "fixed"
    strike: float = Field(description="Contract price, $/MWh, in the first contract year.")


class Collar(_Terms):
    """A collar: the contract price is the market price held within [floor, cap] ($/MWh, escalated).

    A virtual collar's buyer receives mwh * (max(p - cap, 0) - max(floor - p, 0)):
    it is long a call struck at the cap and short a put struck at the floor.
    """

    type: Literal["collar"] = "collar"
    floor: float = Field(description="Lowest contract price, $/MWh, in the first contract year.")
    cap: float = Field(description="Highest contract price, $/MWh, in the first contract year.")

    @model_validator(mode="after")
    def _ordered(self) -> Collar:
        if self.cap < self.floor:
            raise ValueError(f"cap: {self.cap:g} $/MWh is below the floor {self.floor:g} $/MWh")
        return self


class IndexPlus(_Terms):
    """Hub-plus / index-plus: the contract price is the market price plus `adder` $/MWh (escalated).

    Physical: the seller's revenue is the index value of its energy plus
    adder * volume. Virtual: the index legs cancel and the buyer pays the
    seller the adder on every MWh settled.
    """

    type: Literal["index_plus"] = "index_plus"
    adder: float = Field(description="Added to the market price, $/MWh, in the first contract year.")


class FloatingDiscount(_Terms):
    """A floating price at a discount: contract price p * (1 - discount), at least `floor` when given."""

    type: Literal["floating_discount"] = "floating_discount"
    discount: float = Field(ge=0, lt=1, description="Discount to the market price, a fraction (0.1 = 10%).")
    floor: float | None = Field(
        default=None, description="Lowest contract price, $/MWh, in the first contract year (escalated)."
    )


Contract = Annotated[FixedPrice | Collar | IndexPlus | FloatingDiscount, Field(discriminator="type")]
CONTRACT_TYPES = ("fixed", "collar", "index_plus", "floating_discount")

_ADAPTER: TypeAdapter[FixedPrice | Collar | IndexPlus | FloatingDiscount] = TypeAdapter(Contract)


def parse_contract(data: Mapping[str, object]) -> Contract:
    """A contract from its JSON-like mapping (prices in $/MWh, fractions per year, dates ISO).

    Raises `PpaError` whose message names each offending field and what is
    wrong with it, e.g. `cap: 30 $/MWh is below the floor 40 $/MWh` or
    `term_years: must be 1 to 25 years, got -3`.
    """
    if not isinstance(data, Mapping):
        raise PpaError(f"contract: expected an object with a type, got {type(data).__name__}")
    kind = data.get("type")
    if kind not in CONTRACT_TYPES:
        raise PpaError(f"type: {kind!r} is not one of {', '.join(CONTRACT_TYPES)}")
    try:
        return _ADAPTER.validate_python(dict(data))
    except ValidationError as error:
        raise PpaError("; ".join(_problem(e) for e in error.errors())) from None


def _problem(error: Mapping[str, object]) -> str:
    """One validation problem as `field: what is wrong`, without the union's tag in the path."""
    where = error.get("loc", ())
    loc = [str(part) for part in where if isinstance(part, str | int)] if isinstance(where, tuple) else []
    if loc and loc[0] in CONTRACT_TYPES:
        loc = loc[1:]
    message = str(error.get("msg", "invalid"))
    message = message.removeprefix("Value error, ")
    if "input" in error and error.get("type") not in ("missing", "value_error", "extra_forbidden"):
        message = f"{message} (got {error['input']!r})"
    return f"{'.'.join(loc)}: {message}" if loc else message
