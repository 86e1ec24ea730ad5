"""Historical events replayed onto curves: the presets, the history a scenario needs, and the event's moves.

The engine does no I/O. `history_needs` says which price histories a
scenario's replay steps need (the 14 baseline days before the event and the
event itself, as local market dates, inclusive); the caller reads them from
the store and hands them to `apply_scenario` as Arrow tables with columns
`interval_start` (timestamp, UTC) and `lmp` ($/MWh). Each event hour's move
is measured against the baseline's mean for the same local hour of day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from carbon254.isos import iso_info
from carbon254.scenarios.errors import ScenarioError
from carbon254.scenarios.model import ReplayStep, Scenario
from carbon254.timeseries._clock import DAY, HOUR, clock_for, utc_micros

Floats = npt.NDArray[np.float64]
BASELINE_DAYS = 14
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class ReplayPreset:
    """A named historical event: where and when prices moved (local market dates, inclusive)."""

    name: str
    iso: str
    location: str
    market: str
    start: date
    end: date
    description: str


PRESETS: dict[str, ReplayPreset] = {
    p.name: p
    for p in (
        ReplayPreset(
            "uri",
            "ERCOT",
            "HB_NORTH",
            "DAM",
            date(2021, 2, 13),
            date(2021, 2, 20),
            "Winter Storm Uri: ERCOT load shed and prices at the $9,000/MWh cap for days.",
        ),
        ReplayPreset(
            "elliott",
            "PJM",
            "WESTERN HUB",
            "DAM",
            date(2022, 12, 23),
            date(2022, 12, 26),
            "Winter Storm Elliott: forced outages across PJM at Christmas 2022.",
        ),
        ReplayPreset(
            "caiso_heat_2020",
            "CAISO",
            "TH_SP15_GEN-APND",
            "DAM",
            date(2020, 8, 14),
            date(2020, 8, 19),
            "August 2020 West-wide heat wave: CAISO rotating outages.",
        ),
        ReplayPreset(
            "polar_vortex_2014",
            "PJM",
            "WESTERN HUB",
            "DAM",
            date(2014, 1, 6),
            date(2014, 1, 8),
            "January 2014 polar vortex: record PJM winter peak and gas-driven price spikes.",
        ),
    )
}


def list_presets() -> list[ReplayPreset]:
    """The replay presets (name, ISO, location, market, event dates, description), by name."""
    return [PRESETS[name] for name in sorted(PRESETS)]


@dataclass(frozen=True, slots=True)
class HistoryNeed:
    """A price history a replay needs: one location and market over local dates `start`..`end` inclusive.

    `event` names the replay (preset name or `custom`) for messages; it takes
    no part in equality, so a need built by hand finds the same table.
    """

    iso: str
    location: str
    market: str
    start: date
    end: date
    event: str = field(default="", compare=False)


class MissingHistory(ScenarioError):
    """A replay whose price history was not supplied (or holds no prices for the dates it needs)."""


def event_of(step: ReplayStep) -> ReplayPreset:
    """The event a replay step re-applies: its preset, or its custom location and dates."""
    if step.preset is not None:
        return PRESETS[step.preset]
    assert step.iso and step.location and step.market and step.start and step.end  # model-checked
    return ReplayPreset("custom", step.iso, step.location, step.market, step.start, step.end, "")


def need_of(step: ReplayStep) -> HistoryNeed:
    """The history a replay step needs: the baseline days before its event and the event itself."""
    event = event_of(step)
    first = event.start - timedelta(days=BASELINE_DAYS)
    return HistoryNeed(event.iso, event.location, event.market, first, event.end, event.name)


def history_needs(scenario: Scenario) -> list[HistoryNeed]:
    """Every price history the scenario's replay steps need, each once, in step order."""
    needs: list[HistoryNeed] = []
    for step in scenario.steps:
        if isinstance(step, ReplayStep) and need_of(step) not in needs:
            needs.append(need_of(step))
    return needs


@dataclass(frozen=True, slots=True)
class EventMoves:
    """An event's hourly moves: P' = P * mult[day, hour] + add[day, hour] (add in $/MWh), local hours 0-23."""

    mult: Floats
    add: Floats

    @property
    def days(self) -> int:
        """Number of event days."""
        return int(self.mult.shape[0])


def _missing(need: HistoryNeed, what: str) -> MissingHistory:
    return MissingHistory(
        f"replay {need.event or 'custom'}: {what} for {need.iso} {need.location} {need.market} "
        f"{need.start.isoformat()}..{need.end.isoformat()} is not in the store"
    )


def event_moves(step: ReplayStep, history: Mapping[HistoryNeed, pa.Table] | None) -> EventMoves:
    """The step's event moves, measured on its history table against the 14-day hour-of-day baseline.

    Raises MissingHistory naming the event, location, market and dates when
    the table is absent, empty, or has no prices on the baseline or event days.
    """
    need = need_of(step)
    table = (history or {}).get(need)
    if table is None or table.num_rows == 0:
        raise _missing(need, "price history")
    for column in ("interval_start", "lmp"):
        if column not in table.column_names:
            raise ScenarioError(f"replay {need.event}: the history table has no {column!r} column")
    utc, valid = utc_micros(table.column("interval_start"), "interval_start")
    lmp = np.asarray(table.column("lmp").to_numpy(zero_copy_only=False), dtype=np.float64)
    keep = np.isfinite(lmp) if valid is None else valid & np.isfinite(lmp)
    utc, lmp = utc[keep], lmp[keep]
    local = clock_for(iso_info(need.iso).timezone, utc).to_local(utc)
    day = local // DAY
    hour = (local // HOUR) % 24
    event = event_of(step)
    first_event = (event.start - _EPOCH).days
    n_days = (event.end - event.start).days + 1
    in_base = (day >= first_event - BASELINE_DAYS) & (day < first_event)
    in_event = (day >= first_event) & (day < first_event + n_days)
    if not in_base.any():
        raise _missing(need, f"the {BASELINE_DAYS}-day baseline before {event.start.isoformat()}")
    if not in_event.any():
        raise _missing(need, f"the event days {event.start.isoformat()}..{event.end.isoformat()}")
    base_n = np.bincount(hour[in_base], minlength=24)
    base = np.bincount(hour[in_base], weights=lmp[in_base], minlength=24) / np.maximum(base_n, 1)
    cell = (day[in_event] - first_event) * 24 + hour[in_event]
    ev_n = np.bincount(cell, minlength=n_days * 24).reshape(n_days, 24)
    ev_sum = np.bincount(cell, weights=lmp[in_event], minlength=n_days * 24).reshape(n_days, 24)
    seen = (ev_n > 0) & (base_n > 0)[None, :]
    ev = ev_sum / np.maximum(ev_n, 1)
    ratio_ok = seen & (base > 0)[None, :] if step.mode == "ratio" else np.zeros_like(seen)
    mult = np.where(ratio_ok, ev / np.where(base > 0, base, 1.0)[None, :], 1.0)
    add = np.where(seen & ~ratio_ok, ev - base[None, :], 0.0)
    return EventMoves(mult, add)


def mapped_first_day(step: ReplayStep, curve_days: npt.NDArray[np.int64]) -> int:
    """The curve day (days since 1970-01-01, local) the event's first day maps onto.

    `apply_from` when given; else the event's calendar day in the first year
    of the curve that has it. Raises ScenarioError when that day is not on
    the curve.
    """
    first, last = int(curve_days.min()), int(curve_days.max())
    if step.apply_from is not None:
        chosen = (step.apply_from - _EPOCH).days
        if not first <= chosen <= last:
            raise ScenarioError(f"replay apply_from {step.apply_from.isoformat()} is not on the curve")
        return chosen
    start = event_of(step).start
    for year in range((_EPOCH + timedelta(days=first)).year, (_EPOCH + timedelta(days=last)).year + 1):
        try:
            candidate = (start.replace(year=year) - _EPOCH).days
        except ValueError:  # 29 February in a common year
            continue
        if first <= candidate <= last:
            return candidate
    raise ScenarioError(f"replay {event_of(step).name}: no curve year has {start:%d %B}; give apply_from")
