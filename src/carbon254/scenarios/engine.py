"""Applying a scenario to a curve set: steps in order, hours first, monthly block prices rebuilt from them.

A hub with an hourly curve is transformed hour by hour and its monthly
block prices are then the hour averages per (month, block) on the ISO's
market clock; a hub with only a monthly curve is transformed month by month
(shift, gas and load growth only: the other steps need hours). Linear steps
(shift, gas, load growth) in a row are composed into one multiplier and one
amount per (month, block) and applied to the hours in one pass. Price paths
are drawn last, around each hub's final hourly curve, so every curve step
moves them wherever it stands, and volatility steps scale their volatility.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from carbon254.curves.model import CurveSet, HourlyCurve, MonthlyCurve
from carbon254.scenarios.errors import ScenarioError
from carbon254.scenarios.frame import ATOMS, BLOCK_ATOMS, HourFrame, hour_frame, month_code
from carbon254.scenarios.linear import Linear, apply_to_monthly, linear_move, tenor_mask
from carbon254.scenarios.model import (
    GasStep,
    LoadGrowthStep,
    PathsStep,
    RenewablesStep,
    ReplayStep,
    Scenario,
    ShiftStep,
    VolatilityStep,
)
from carbon254.scenarios.paths import PricePaths, path_rng, simulate
from carbon254.scenarios.replay import HistoryNeed, event_moves, mapped_first_day, need_of
from carbon254.scenarios.shaping import scale_deviations, solar_factors, volatility_factors

# Bumped whenever a step's arithmetic changes, so fingerprints of runs made by older code stop matching.
ENGINE_VERSION = "scenarios-1"
Floats = npt.NDArray[np.float64]
_DIGEST_CACHE_SIZE = 64


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    """A scenario applied: the transformed curves, any price paths by hub, and the run's fingerprint.

    `fingerprint` is the SHA-256 (hex) of the engine version, the scenario's
    canonical JSON, the input curves' bytes and any replayed history, so a
    stored run can be reproduced and checked.
    """

    scenario: Scenario
    curves: CurveSet
    paths: dict[str, PricePaths]
    fingerprint: str


class _Hub:
    """One hub's working state while the steps run (arrays are replaced, never written in place)."""

    def __init__(self, name: str, monthly: MonthlyCurve | None, hourly: HourlyCurve | None) -> None:
        self.name = name
        self.monthly = monthly
        self.hourly = hourly
        self.frame: HourFrame | None = hour_frame(hourly.iso, hourly.starts) if hourly is not None else None
        self.hours: Floats | None = hourly.prices if hourly is not None else None
        self.pending: Linear | None = None
        self.month_codes = (
            np.array([month_code(m) for m in monthly.months], dtype=np.int64) if monthly is not None else None
        )
        self.monthly_prices: Floats | None = monthly.prices if monthly is not None else None
        if self.month_codes is not None and self.frame is not None:
            self.covered = np.isin(self.month_codes, self.frame.months)
        else:
            self.covered = np.zeros(len(self.month_codes) if self.month_codes is not None else 0, bool)
        self.vol_scale: Floats | None = None
        self.touched = False

    def linear(self, step: ShiftStep | GasStep | LoadGrowthStep, label: str) -> None:
        self.touched = True
        if self.frame is not None:
            move = linear_move(step, self.frame.months)
            self.pending = move if self.pending is None else self.pending.then(move)
        if self.monthly is not None and self.month_codes is not None and self.monthly_prices is not None:
            rows = ~self.covered
            if rows.any():
                move = linear_move(step, self.month_codes)
                self.monthly_prices = apply_to_monthly(self.monthly, self.monthly_prices, move, rows, label)

    def need_hours(self, label: str, start: str | None, end: str | None) -> tuple[HourFrame, Floats]:
        """Flush pending linear moves and return the hours, or fail when the step's months lack them."""
        if self.frame is None or self.hours is None:
            raise ScenarioError(
                f"{label} needs an hourly curve for hub {self.name}, and the curve set has none"
            )
        if self.month_codes is not None and (tenor_mask(start, end, self.month_codes) & ~self.covered).any():
            raise ScenarioError(
                f"{label}: hub {self.name}'s monthly curve has months in the step's range that its hourly "
                f"curve does not cover"
            )
        self.flush()
        self.touched = True
        return self.frame, self.hours

    def flush(self) -> None:
        if self.pending is not None and self.frame is not None and self.hours is not None:
            group = self.frame.group
            self.hours = (
                self.hours * self.pending.mult.reshape(-1)[group] + self.pending.add.reshape(-1)[group]
            )
        self.pending = None

    def finish(self) -> tuple[MonthlyCurve | None, HourlyCurve | None]:
        self.flush()
        if not self.touched:
            return self.monthly, self.hourly
        hourly = self.hourly
        if hourly is not None and self.hours is not None:
            hourly = replace(hourly, prices=self.hours)
        monthly = self.monthly
        if monthly is not None and self.monthly_prices is not None:
            prices = self.monthly_prices
            if self.frame is not None and self.hours is not None and self.covered.any():
                prices = self._rebuilt(monthly, prices, self.frame, self.hours)
            monthly = replace(monthly, prices=prices)
        return monthly, hourly

    def _rebuilt(self, monthly: MonthlyCurve, prices: Floats, frame: HourFrame, hours: Floats) -> Floats:
        """Monthly block prices of the months the hours cover, as hour averages per (month, block)."""
        assert self.month_codes is not None
        sums = np.bincount(frame.group, weights=hours, minlength=frame.n_groups).reshape(-1, ATOMS)
        counts = frame.counts.reshape(-1, ATOMS)
        rows = np.flatnonzero(self.covered)
        at = np.searchsorted(frame.months, self.month_codes[rows])
        out = prices.copy()
        for j, block in enumerate(monthly.blocks):
            atoms = list(BLOCK_ATOMS[block])
            total = sums[at][:, atoms].sum(axis=1)
            count = counts[at][:, atoms].sum(axis=1)
            # A block with no hours in a covered month (a partial first month) keeps its old price.
            out[rows, j] = np.where(count > 0, total / np.maximum(count, 1.0), prices[rows, j])
        return out


def _selected(hubs: list[str] | None, available: list[str], label: str) -> list[str]:
    if hubs is None:
        return available
    unknown = [h for h in hubs if h not in available]
    if unknown:
        raise ScenarioError(
            f"{label} names hub {unknown[0]!r}, which is not in the curve set (hubs: {', '.join(available)})"
        )
    return [h for h in available if h in hubs]


def canonical_json(scenario: Scenario) -> str:
    """The scenario as canonical JSON: sorted keys, no spaces (what fingerprints and seeds are made of)."""
    return json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


_digests: OrderedDict[int, tuple[object, bytes]] = OrderedDict()


def _curve_digest(curve: MonthlyCurve | HourlyCurve) -> bytes:
    """SHA-256 of a curve's identity and arrays, cached by object (curves are immutable by contract)."""
    hit = _digests.get(id(curve))
    if hit is not None and hit[0] is curve:
        return hit[1]
    h = hashlib.sha256()
    if isinstance(curve, MonthlyCurve):
        head = [
            "monthly",
            curve.iso,
            curve.hub,
            curve.as_of.isoformat(),
            [m.isoformat() for m in curve.months],
            [b.value for b in curve.blocks],
            curve.quoted_through.isoformat(),
            curve.simulated,
        ]
        h.update(json.dumps(head).encode())
        h.update(np.ascontiguousarray(curve.prices, dtype="<f8").tobytes())
        h.update(np.ascontiguousarray(curve.hours, dtype="<i8").tobytes())
    else:
        h.update(
            json.dumps(["hourly", curve.iso, curve.hub, curve.as_of.isoformat(), curve.simulated]).encode()
        )
        h.update(np.ascontiguousarray(curve.starts, dtype="<i8").tobytes())
        h.update(np.ascontiguousarray(curve.prices, dtype="<f8").tobytes())
    digest = h.digest()
    _digests[id(curve)] = (curve, digest)  # holding the curve keeps its id from being reused
    if len(_digests) > _DIGEST_CACHE_SIZE:
        _digests.popitem(last=False)
    return digest


def _table_digest(table: pa.Table) -> bytes:
    h = hashlib.sha256()
    for name in ("interval_start", "lmp"):
        column = table.column(name)
        if pa.types.is_timestamp(column.type):
            column = column.cast(pa.timestamp("us", "UTC")).cast(pa.int64())
        h.update(np.asarray(column.to_numpy(zero_copy_only=False)).tobytes())
    return h.digest()


def fingerprint(
    scenario: Scenario, base: CurveSet, history: Mapping[HistoryNeed, pa.Table] | None = None
) -> str:
    """SHA-256 (hex) of the engine version, the scenario's canonical JSON, the curves and replayed history."""
    h = hashlib.sha256(ENGINE_VERSION.encode())
    h.update(canonical_json(scenario).encode())
    for hub in sorted(base.monthly):
        h.update(_curve_digest(base.monthly[hub]))
    for hub in sorted(base.hourly):
        h.update(_curve_digest(base.hourly[hub]))
    for step in scenario.steps:
        if isinstance(step, ReplayStep) and history is not None and need_of(step) in history:
            h.update(_table_digest(history[need_of(step)]))
    return h.hexdigest()


def scenario_seed(scenario: Scenario) -> int:
    """The scenario's seed, or one derived from its canonical JSON (so an unseeded run still repeats)."""
    if scenario.seed is not None:
        return scenario.seed
    return int.from_bytes(hashlib.sha256(canonical_json(scenario).encode()).digest()[:8], "big")


def apply_scenario(
    scenario: Scenario, base: CurveSet, *, history: Mapping[HistoryNeed, pa.Table] | None = None
) -> ScenarioResult:
    """Apply the scenario's steps in order to `base` (prices $/MWh) and return the transformed curves.

    `history` holds the price tables replay steps need (`history_needs`),
    keyed by need. Raises ScenarioError naming the step and hub when a step
    cannot apply (unknown hub, hours needed but absent), MissingHistory for a
    replay without its history, and ScenarioError for a scenario that still
    has a sweep (expand it first).
    """
    if scenario.sweep:
        raise ScenarioError(f"scenario {scenario.name!r} has a sweep: apply each of expand_sweep(scenario)")
    names = sorted(set(base.monthly) | set(base.hourly))
    for hub in names:
        hourly, monthly = base.hourly.get(hub), base.monthly.get(hub)
        if hourly is not None and len(hourly.starts) != len(hourly.prices):
            raise ScenarioError(
                f"hub {hub}: hourly curve has {len(hourly.starts)} starts but {len(hourly.prices)} prices"
            )
        if monthly is not None and monthly.prices.shape != (len(monthly.months), len(monthly.blocks)):
            raise ScenarioError(f"hub {hub}: monthly prices are not months x blocks")
    hubs = {h: _Hub(h, base.monthly.get(h), base.hourly.get(h)) for h in names}
    paths_steps: list[tuple[int, PathsStep, list[str]]] = []
    for i, step in enumerate(scenario.steps):
        label = f"step {i} ({step.type})"
        chosen = _selected(step.hubs, names, label)
        if isinstance(step, ShiftStep | GasStep | LoadGrowthStep):
            for hub in chosen:
                hubs[hub].linear(step, label)
        elif isinstance(step, VolatilityStep):
            for hub in chosen:
                state = hubs[hub]
                frame, hours = state.need_hours(label, step.start, step.end)
                factors = volatility_factors(step, frame)
                state.hours = scale_deviations(hours, frame, factors)
                state.vol_scale = factors if state.vol_scale is None else state.vol_scale * factors
        elif isinstance(step, RenewablesStep):
            for hub in chosen:
                frame, hours = hubs[hub].need_hours(label, step.start, step.end)
                hubs[hub].hours = hours * solar_factors(step, frame)
        elif isinstance(step, ReplayStep):
            moves = event_moves(step, history)
            for hub in chosen:
                frame, hours = hubs[hub].need_hours(label, None, None)
                k = frame.day - mapped_first_day(step, frame.day)
                hit = (k >= 0) & (k < moves.days)
                cell = np.where(hit, k, 0) * 24 + frame.hour_of_day
                mult = np.where(hit, moves.mult.reshape(-1)[cell], 1.0)
                add = np.where(hit, moves.add.reshape(-1)[cell], 0.0)
                hubs[hub].hours = hours * mult + add
        else:
            for hub in chosen:
                if hubs[hub].frame is None:
                    raise ScenarioError(
                        f"{label} needs an hourly curve for hub {hub}, and the curve set has none"
                    )
                if any(hub in earlier for _, _, earlier in paths_steps):
                    raise ScenarioError(f"{label}: hub {hub} already has price paths from an earlier step")
            paths_steps.append((i, step, chosen))
    monthly_out: dict[str, MonthlyCurve] = {}
    hourly_out: dict[str, HourlyCurve] = {}
    for hub, state in hubs.items():
        monthly, hourly = state.finish()
        if monthly is not None:
            monthly_out[hub] = monthly
        if hourly is not None:
            hourly_out[hub] = hourly
    paths: dict[str, PricePaths] = {}
    seed = scenario_seed(scenario) if paths_steps else 0
    for i, step, chosen in paths_steps:
        for hub in chosen:
            paths[hub] = _paths(i, step, hubs[hub], hourly_out[hub], seed)
    curves = CurveSet(monthly=monthly_out, hourly=hourly_out)
    return ScenarioResult(scenario, curves, paths, fingerprint(scenario, base, history))


def _paths(index: int, step: PathsStep, state: _Hub, curve: HourlyCurve, seed: int) -> PricePaths:
    frame = state.frame
    assert frame is not None
    window = tenor_mask(step.start, step.end, frame.months)[frame.month]
    if not window.any():
        raise ScenarioError(
            f"step {index} (paths): hub {state.name} has no hours from {step.start} to {step.end}"
        )
    scale = state.vol_scale[window] if state.vol_scale is not None else np.ones(int(window.sum()))
    month = frame.month[window] - frame.month[window][0]
    values = simulate(step, curve.prices[window], month, scale, path_rng(seed, index, state.name))
    return PricePaths(curve.iso, state.name, curve.starts[window], values)
