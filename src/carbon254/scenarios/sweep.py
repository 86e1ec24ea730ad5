"""Composing scenarios and expanding sweeps into the grid of scenarios they stand for."""

from __future__ import annotations

import hashlib
import itertools
import math

from carbon254.scenarios.errors import SweepTooLarge
from carbon254.scenarios.model import Scenario, SweepAxis, with_parameter

MAX_SWEEP = 100_000


def compose(*scenarios: Scenario) -> Scenario:
    """One scenario doing each of `scenarios` in turn: their steps in order, their sweeps re-indexed.

    The name joins the names with " + "; the seed is None when no scenario
    has one, else derived from all their seeds in order (SHA-256), so the
    same composition always draws the same paths.
    """
    if not scenarios:
        raise ValueError("compose needs at least one scenario")
    steps = [step for s in scenarios for step in s.steps]
    sweep: list[SweepAxis] = []
    offset = 0
    for s in scenarios:
        sweep += [axis.model_copy(update={"step": axis.step + offset}) for axis in s.sweep or ()]
        offset += len(s.steps)
    seeds = [s.seed for s in scenarios]
    seed = None
    if any(x is not None for x in seeds):
        text = ",".join("-" if x is None else str(x) for x in seeds)
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1
    return Scenario(
        name=" + ".join(s.name for s in scenarios),
        description="\n".join(s.description for s in scenarios if s.description),
        seed=seed,
        steps=steps,
        sweep=sweep or None,
    )


def expand_sweep(scenario: Scenario, *, limit: int = MAX_SWEEP) -> list[Scenario]:
    """The cartesian product of the scenario's sweep axes, one scenario per point (no sweep: itself).

    Each is named `name [s0.percent=-10, s1.gas_change=0.5]` and has no
    sweep. Raises SweepTooLarge when the grid has more than `limit` points.
    """
    if not scenario.sweep:
        return [scenario]
    grids = [axis.grid() for axis in scenario.sweep]
    size = math.prod(len(g) for g in grids)
    if size > limit:
        shape = " x ".join(str(len(g)) for g in grids)
        raise SweepTooLarge(
            f"sweep of {scenario.name!r} has {size:,} points ({shape}); the limit is {limit:,}"
        )
    out = []
    for point in itertools.product(*grids):
        steps = list(scenario.steps)
        for axis, value in zip(scenario.sweep, point, strict=True):
            steps[axis.step] = with_parameter(steps[axis.step], axis.parameter, value)
        label = ", ".join(
            f"s{axis.step}.{axis.parameter}={value:g}"
            for axis, value in zip(scenario.sweep, point, strict=True)
        )
        out.append(
            scenario.model_copy(update={"name": f"{scenario.name} [{label}]", "steps": steps, "sweep": None})
        )
    return out
