"""Which simulations publish a time window of the demo market.

One rule serves the first load, the catch-up after a restart and every step of
the live feed: what is known at `end` (a 5-minute boundary, UTC) about the
window [start, end) is

- RT5 LMPs of every 5-minute interval in the window (only the last
  `rt5_days` days of a long window, as in the real archives people keep),
- ERCOT ORDC adders of every 5-minute interval,
- hourly RTH LMPs, real-time ancillary prices, actual load and capacity
  prices of every hour that has *ended* by `end`,
- day-ahead results (DAM LMPs and ancillary prices, the day-ahead load
  forecast) of every operating day each ISO has published by `end`: the day
  before, at its publication time (`IsoInfo.da_publication`), a whole day at
  once.

Hours are never published half-way: an hourly real-time price averages the
hour's twelve 5-minute prices, so it exists only once the hour is over. That
is why the hourly part runs over [floor_hour(start), floor_hour(end)): a run
that stopped at 12:35 stored hours up to 12:00, and the next window, starting
at 12:35, publishes the 12:00 hour first. Day-ahead results run from what was
already known at `start` to what is known at `end`, so a window publishes
tomorrow's prices exactly when it crosses an ISO's publication time, and runs
end to end never miss or repeat an operating day.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from carbon254.demo.marker import DemoParams
from carbon254.isos import Iso
from carbon254.schema import Dataset, LoadKind
from carbon254.simulate import SIMULATED_LOAD_KINDS, SimulationConfig, simulated_markets
from carbon254.simulate.publication import day_ahead_known_until

FIVE_MINUTES = timedelta(minutes=5)
HOUR = timedelta(hours=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

REAL_TIME_DATASETS = (Dataset.LMP, Dataset.AS_PRICE, Dataset.LOAD, Dataset.CAPACITY_PRICE)
DAY_AHEAD_DATASETS = (Dataset.LMP, Dataset.AS_PRICE, Dataset.LOAD)


def floor_to(moment: datetime, step: timedelta) -> datetime:
    """`moment` (timezone-aware) rounded down to a multiple of `step` since the Unix epoch, in UTC."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone; pass a UTC-aware datetime")
    return _EPOCH + ((moment - _EPOCH) // step) * step


def _day_ahead_configs(
    params: DemoParams, start: datetime, end: datetime, since: datetime | None = None
) -> list[SimulationConfig]:
    """The simulations that publish the day-ahead results that come out in (start, end].

    For each ISO, the operating days published after `start` and by `end`;
    with `since`, instead every operating hour from `since` up to what is
    published by `end` (a first load, which also needs the days published
    before it began). ISOs that publish at the same instants share a config.
    """
    windows: dict[tuple[datetime, datetime], list[Iso]] = {}
    for iso in params.isos:
        lo = since if since is not None else day_ahead_known_until(iso, start)
        hi = day_ahead_known_until(iso, end)
        if hi > lo:
            windows.setdefault((lo, hi), []).append(iso)
    return [
        SimulationConfig(
            start=lo,
            end=hi,
            isos=tuple(isos),
            nodes=params.nodes,
            markets=("DAM",),
            datasets=DAY_AHEAD_DATASETS,
            load_kinds=(LoadKind.FORECAST,),
            seed=params.seed,
        )
        for (lo, hi), isos in windows.items()
    ]


def window_configs(
    params: DemoParams, start: datetime, end: datetime, *, first_load: bool = False
) -> list[SimulationConfig]:
    """The simulations that publish [start, end) as known at `end` (see the module doc).

    `start` and `end` are UTC-aware and on 5-minute boundaries. A first load
    (`first_load`) also publishes the day-ahead results of the window's hours
    that came out before `start`. Returns no configs for an empty window.
    """
    for name, moment in (("start", start), ("end", end)):
        if floor_to(moment, FIVE_MINUTES) != moment:
            raise ValueError(f"{name} ({moment.isoformat()}) is not on a 5-minute boundary")
    if end <= start:
        return []
    configs: list[SimulationConfig] = []
    hour_lo, hour_hi = floor_to(start, HOUR), floor_to(end, HOUR)
    # A first load needs both markets for every hour of its history: one run
    # simulates each day once; only the days ahead are left to day-ahead runs.
    both = first_load and hour_hi > hour_lo
    if hour_hi > hour_lo:
        configs.append(
            SimulationConfig(
                start=hour_lo,
                end=hour_hi,
                isos=params.isos,
                nodes=params.nodes,
                markets=("DAM", "RTH") if both else ("RTH",),
                datasets=REAL_TIME_DATASETS,
                load_kinds=SIMULATED_LOAD_KINDS if both else (LoadKind.ACTUAL,),
                seed=params.seed,
            )
        )
    configs.extend(_day_ahead_configs(params, start, end, since=hour_hi if both else None))
    rt5_lo = max(start, end - timedelta(days=params.rt5_days))
    if end > rt5_lo:
        configs.append(
            SimulationConfig(
                start=rt5_lo,
                end=end,
                isos=params.isos,
                nodes=params.nodes,
                markets=("RT5",),
                datasets=(Dataset.LMP,),
                seed=params.seed,
            )
        )
    # ORDC adders over the whole window, for the ISOs the simulator makes them for (ERCOT).
    ordc = tuple(iso for iso in params.isos if Dataset.ORDC_ADDER in simulated_markets(iso))
    if ordc:
        configs.append(
            SimulationConfig(
                start=start,
                end=end,
                isos=ordc,
                nodes=params.nodes,
                markets=(),
                datasets=(Dataset.ORDC_ADDER,),
                seed=params.seed,
            )
        )
    return configs
