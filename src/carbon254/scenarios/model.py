"""What a scenario is: a named, ordered list of steps that transform a set of curves, plus an optional sweep.

The models are Pydantic v2 and forbid unknown fields, so a misspelt key is an
error instead of a silently ignored parameter. Their JSON Schema (generated
from them, `carbon254.scenarios.schema`) is what YAML and JSON scenario files
are checked against, line by line. Prices are $/MWh, gas prices $/MMBtu, heat
rates MMBtu/MWh; tenor months are `YYYY-MM` in the ISO's market time.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from carbon254.timeseries.periods import Block

Month = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$",
        description="A delivery month, YYYY-MM, in the ISO's market time.",
    ),
]
Hubs = Annotated[
    list[Annotated[str, Field(min_length=1)]] | None,
    Field(description="Hubs (curve-set keys) the step applies to; default every hub of the curve set."),
]
Blocks = Annotated[
    list[Block] | None,
    Field(
        description=(
            "Delivery blocks the step applies to (onpeak, offpeak, atc, 2x16, 7x8); default all hours."
        )
    ),
]
TenorStart = Annotated[
    Month | None, Field(description="First delivery month affected (inclusive); default the curve's first.")
]
TenorEnd = Annotated[
    Month | None, Field(description="Last delivery month affected (inclusive); default the curve's last.")
]


class StepFieldError(ValueError):
    """A step or sweep whose fields are individually valid but do not fit together.

    `path` is where it is, relative to the model that raised it (field names
    and list indices), so a scenario file's loader can name the line.
    """

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path


def month_start(month: str) -> date:
    """The first day of a `YYYY-MM` month."""
    year, mon = month.split("-")
    return date(int(year), int(mon), 1)


M = TypeVar("M", bound=BaseModel)


def _type_required(schema: dict[str, Any]) -> None:
    """A step's `type` has a default in Python, but a file must say which step it means."""
    if "type" in schema.get("properties", {}):
        schema["required"] = ["type", *schema.get("required", [])]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_type_required)


class _Filtered(_Model):
    hubs: Hubs = None
    blocks: Blocks = None
    start: TenorStart = None
    end: TenorEnd = None

    @model_validator(mode="after")
    def _tenor_in_order(self) -> _Filtered:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise StepFieldError(("end",), f"end {self.end} is before start {self.start}")
        return self


class ShiftStep(_Filtered):
    """Move prices by an amount ($/MWh) or by a percentage of themselves."""

    type: Literal["shift"] = "shift"
    absolute: float | None = Field(
        default=None, description="Added to every affected hour or block price, $/MWh."
    )
    percent: float | None = Field(
        default=None, description="Percent change of every affected price: P' = P * (1 + percent/100)."
    )

    @model_validator(mode="after")
    def _one_amount(self) -> ShiftStep:
        if (self.absolute is None) == (self.percent is None):
            raise StepFieldError((), "a shift needs exactly one of absolute ($/MWh) or percent")
        return self


class HeatRates(_Model):
    """Market heat rates (MMBtu/MWh) that pass a gas price change to power, per block."""

    onpeak: float = Field(default=8.5, ge=0, description="Onpeak heat rate, MMBtu/MWh (default 8.5).")
    offpeak: float = Field(
        default=7.0, ge=0, description="Offpeak (2x16 and 7x8) heat rate, MMBtu/MWh (default 7.0)."
    )


class GasStep(_Filtered):
    """A gas price change passed to power through heat rates: dP = heat_rate(block) * dGas ($/MWh)."""

    type: Literal["gas"] = "gas"
    gas_change: float | None = Field(default=None, description="Gas price change, $/MMBtu.")
    percent: float | None = Field(
        default=None, description="Gas price change in percent of base_gas (needs base_gas)."
    )
    base_gas: float | None = Field(
        default=None, gt=0, description="The gas price a percent change applies to, $/MMBtu."
    )
    heat_rates: HeatRates = Field(default_factory=HeatRates, description="Heat rates per block, MMBtu/MWh.")

    @model_validator(mode="after")
    def _one_change(self) -> GasStep:
        if (self.gas_change is None) == (self.percent is None):
            raise StepFieldError((), "a gas step needs exactly one of gas_change ($/MMBtu) or percent")
        if self.percent is not None and self.base_gas is None:
            raise StepFieldError(("base_gas",), "a percent gas change needs base_gas ($/MMBtu)")
        return self

    @property
    def gas_delta(self) -> float:
        """The gas price change in $/MMBtu."""
        if self.gas_change is not None:
            return self.gas_change
        assert self.percent is not None and self.base_gas is not None  # checked by the validator
        return self.base_gas * self.percent / 100.0


class Elasticities(_Model):
    """Price elasticity to load per block: percent price change per percent load change."""

    onpeak: float = Field(default=1.5, description="Onpeak elasticity (default 1.5: +1% load, +1.5% price).")
    offpeak: float = Field(
        default=1.0, description="Offpeak (2x16 and 7x8) elasticity (default 1.0: +1% load, +1% price)."
    )


class LoadGrowthStep(_Filtered):
    """Load growth g percent moving prices through block elasticities: P' = P * (1 + e_block * g / 100)."""

    type: Literal["load_growth"] = "load_growth"
    percent: float = Field(description="Load change, percent.")
    elasticity: Elasticities = Field(default_factory=Elasticities, description="Elasticity per block.")


class RenewablesStep(_Model):
    """Solar build-out deepening the midday trough: P'_h = P_h * (1 - depth/100 * w_h) on hourly curves.

    `w_h` is the solar shape's weight of the hour's hour-ending in local market
    time. The default shape is a bell over HE8-HE18: w = sin(pi * (HE - 7) / 12),
    1 at HE13 and 0 outside HE8-HE18. This is a shape change: monthly block
    prices are recomputed from the hours, so onpeak and atc averages fall too.
    """

    type: Literal["renewables"] = "renewables"
    depth: float = Field(ge=0, le=100, description="Price reduction at the solar peak (weight 1), percent.")
    shape: list[Annotated[float, Field(ge=0, le=1)]] | None = Field(
        default=None,
        min_length=24,
        max_length=24,
        description="24 weights for HE1..HE24 in [0, 1]; default the bell sin(pi*(HE-7)/12) on HE8-HE18.",
    )
    months: list[Annotated[int, Field(ge=1, le=12)]] | None = Field(
        default=None, description="Calendar months (1-12) the build-out affects; default all."
    )
    hubs: Hubs = None
    start: TenorStart = None
    end: TenorEnd = None


class VolatilityStep(_Filtered):
    """Scale hourly deviations from each (month, block) mean by `factor`, keeping block averages.

    Blocks here are the partition onpeak / 2x16 / 7x8, so onpeak, offpeak,
    atc, 2x16 and 7x8 monthly prices are all unchanged. Price paths drawn
    for the scenario have their diffusion volatility scaled by the same
    factor in the hours the step covers.
    """

    type: Literal["volatility"] = "volatility"
    factor: float = Field(ge=0, description="Multiplier of hourly deviations from block means (1 = none).")


Preset = Literal["uri", "elliott", "caiso_heat_2020", "polar_vortex_2014"]


class ReplayStep(_Model):
    """Re-apply a historical event's hourly price moves to the curve (needs hourly curves and history).

    The move of each event hour is measured against a baseline: the mean of
    the same local hour of day over the 14 days before the event. In `ratio`
    mode the curve hour is multiplied by lmp / baseline (hours whose baseline
    is not positive use the difference instead); in `difference` mode the
    curve hour gains lmp - baseline ($/MWh). Give a `preset`, or a custom
    event with iso, location, market, start and end (local market dates, inclusive).
    """

    type: Literal["replay"] = "replay"
    preset: Preset | None = Field(default=None, description="A named historical event (see list_presets).")
    iso: str | None = Field(default=None, description="Custom event: the ISO.")
    location: str | None = Field(default=None, description="Custom event: the priced location.")
    market: str | None = Field(default=None, description="Custom event: the market, e.g. DAM.")
    start: date | None = Field(
        default=None, description="Custom event: first day, local market date (inclusive)."
    )
    end: date | None = Field(
        default=None, description="Custom event: last day, local market date (inclusive)."
    )
    mode: Literal["ratio", "difference"] = Field(
        default="ratio", description="ratio: P * lmp/baseline; difference: P + (lmp - baseline) $/MWh."
    )
    apply_from: date | None = Field(
        default=None,
        description=(
            "The curve day the event's first day maps onto; default the same calendar day in the first "
            "curve year that has it."
        ),
    )
    hubs: Hubs = None

    @model_validator(mode="after")
    def _event(self) -> ReplayStep:
        custom = (self.iso, self.location, self.market, self.start, self.end)
        if self.preset is not None:
            if any(v is not None for v in custom):
                raise StepFieldError((), "give a preset or a custom event (iso, location, ...), not both")
        elif any(v is None for v in custom):
            missing = [
                n
                for n, v in zip(("iso", "location", "market", "start", "end"), custom, strict=True)
                if v is None
            ]
            raise StepFieldError((), f"a custom replay needs {', '.join(missing)} (or give a preset)")
        elif self.end is not None and self.start is not None and self.end < self.start:
            raise StepFieldError(("end",), f"end {self.end} is before start {self.start}")
        return self


class PathsStep(_Model):
    """Stochastic hourly price paths around the scenario's final hourly curve.

    x = log(price / curve) follows a mean-reverting (Ornstein-Uhlenbeck)
    process stepped hourly: x' = x * exp(-kappa/24) + sigma_h * eps + jumps,
    where sigma is annualized (sigma_h = sigma / sqrt(8760)) and jumps arrive
    with Poisson intensity per year, log sizes N(jump_mean, jump_sd), and
    decay by the same mean reversion. Each hour is rescaled by the exact
    expectation of exp(x), so the mean over paths converges to the curve.
    Hours whose curve price is <= 0 move in level space instead:
    price = curve + scale * (exp(x) / E[exp(x)] - 1), with scale the mean
    absolute curve price of the hour's month ($/MWh).
    """

    type: Literal["paths"] = "paths"
    n_paths: int = Field(ge=1, le=100_000, description="Number of paths.")
    kappa: float = Field(default=0.5, gt=0, description="Mean-reversion speed, per day.")
    sigma: float = Field(
        default=4.0,
        ge=0,
        description=(
            "Volatility of log price, annualized (hourly shock sd = sigma / sqrt(8760)); the stationary sd "
            "of log(price/curve) is about sigma / sqrt(2 * kappa * 365), 0.21 for the defaults."
        ),
    )
    jump_intensity: float = Field(default=0.0, ge=0, description="Expected jumps per year.")
    jump_mean: float = Field(default=0.0, description="Mean jump size in log price.")
    jump_sd: float = Field(default=0.0, ge=0, description="Standard deviation of jump size in log price.")
    hubs: Hubs = None
    start: TenorStart = None
    end: TenorEnd = None


Step = Annotated[
    ShiftStep | GasStep | LoadGrowthStep | RenewablesStep | VolatilityStep | ReplayStep | PathsStep,
    Field(discriminator="type"),
]
STEP_TYPES: dict[str, type[_Model]] = {
    "shift": ShiftStep,
    "gas": GasStep,
    "load_growth": LoadGrowthStep,
    "renewables": RenewablesStep,
    "volatility": VolatilityStep,
    "replay": ReplayStep,
    "paths": PathsStep,
}


class SweepRange(_Model):
    """Evenly spaced values from start to stop inclusive (stop is kept when a whole number of steps away)."""

    start: float = Field(description="First value.")
    stop: float = Field(description="Last value (inclusive).")
    step: float = Field(description="Spacing; its sign must lead from start towards stop.")

    @model_validator(mode="after")
    def _finite(self) -> SweepRange:
        if self.step == 0 or (self.stop - self.start) * self.step < 0:
            reason = f"step {self.step:g} does not lead from {self.start:g} to {self.stop:g}"
            raise StepFieldError(("step",), reason)
        return self

    def values(self) -> list[float]:
        """The values of the range, rounded to 12 significant digits against float drift."""
        count = int((self.stop - self.start) / self.step + 1e-9) + 1
        return [float(f"{self.start + i * self.step:.12g}") for i in range(count)]


class SweepAxis(_Model):
    """One axis of a sweep grid: a numeric parameter of one step and the values it takes."""

    step: int = Field(ge=0, description="Index of the step (0-based) in the scenario's steps.")
    parameter: str = Field(
        min_length=1, description="The step's numeric field, e.g. percent, or heat_rates.onpeak."
    )
    values: list[float] | None = Field(default=None, min_length=1, description="The values, in order.")
    range: SweepRange | None = Field(default=None, description="Evenly spaced values instead of a list.")

    @model_validator(mode="after")
    def _one_source(self) -> SweepAxis:
        if (self.values is None) == (self.range is None):
            raise StepFieldError((), "a sweep axis needs exactly one of values or range")
        return self

    def grid(self) -> list[float]:
        """The values this axis takes."""
        if self.values is not None:
            return list(self.values)
        assert self.range is not None
        return self.range.values()


def with_parameter(step: M, parameter: str, value: float) -> M:
    """A copy of `step` with the (possibly dotted) numeric `parameter` set to `value`, validated again.

    Raises StepFieldError naming the parameter when the step has no such
    numeric field or the value does not fit it.
    """
    data: dict[str, Any] = step.model_dump()
    parts = parameter.split(".")
    holder = data
    for part in parts[:-1]:
        inner = holder.get(part)
        if not isinstance(inner, dict):
            raise StepFieldError(("parameter",), f"step type {data['type']!r} has no parameter {parameter!r}")
        holder = inner
    last = parts[-1]
    if last == "type" or last not in holder:
        raise StepFieldError(("parameter",), f"step type {data['type']!r} has no parameter {parameter!r}")
    current = holder[last]
    if current is not None and (isinstance(current, bool) or not isinstance(current, int | float)):
        raise StepFieldError(("parameter",), f"{data['type']}.{parameter} is not a numeric parameter")
    holder[last] = int(value) if isinstance(current, int) and float(value).is_integer() else value
    try:
        return type(step).model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise StepFieldError(
            ("parameter",), f"{data['type']}.{parameter} = {value:g}: {first['msg']}"
        ) from None


class Scenario(_Model):
    """A named scenario: steps applied in order to a curve set, and an optional sweep over their parameters.

    `seed` makes stochastic steps (price paths) reproducible; without one the
    seed is derived from the scenario itself, so a run is still repeatable.
    """

    name: str = Field(min_length=1, description="The scenario's name, shown in reports and sweep tables.")
    description: str = Field(default="", description="Free text.")
    seed: int | None = Field(default=None, ge=0, description="Seed of the random paths (non-negative).")
    steps: list[Step] = Field(default_factory=list, description="Transformations, applied in order.")
    sweep: list[SweepAxis] | None = Field(
        default=None, description="A grid over step parameters: expand_sweep makes one scenario per point."
    )

    @field_validator("name")
    @classmethod
    def _named(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("name must not be blank")
        return name

    @model_validator(mode="after")
    def _sweep_fits_steps(self) -> Scenario:
        for i, axis in enumerate(self.sweep or ()):
            if axis.step >= len(self.steps):
                raise StepFieldError(
                    ("sweep", i, "step"),
                    f"sweep[{i}] names step {axis.step} but the scenario has {len(self.steps)} steps",
                )
            try:
                with_parameter(self.steps[axis.step], axis.parameter, axis.grid()[0])
            except StepFieldError as exc:
                raise StepFieldError(("sweep", i, *exc.path), f"sweep[{i}]: {exc}") from None
        return self
