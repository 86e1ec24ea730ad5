"""What to simulate: window, ISOs, scale, markets, datasets and seed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from carbon254.isos import Iso
from carbon254.schema import Dataset, LoadKind
from carbon254.simulate.clock import INTERVALS_PER_HOUR, to_us
from carbon254.simulate.iso import simulation

MARKETS = ("DAM", "RTH", "RT5")
DEFAULT_DATASETS = (
    Dataset.LMP,
    Dataset.AS_PRICE,
    Dataset.ORDC_ADDER,
    Dataset.LOAD,
    Dataset.CAPACITY_PRICE,
)
DEFAULT_BATCH_ROWS = 2_000_000


# What the simulator makes of load: the metered actual and the day-ahead forecast (the
# real-time markets' own short-term forecasts are ingested from the ISOs, not simulated).
SIMULATED_LOAD_KINDS = (LoadKind.ACTUAL, LoadKind.FORECAST)


@dataclass(frozen=True)
class SimulationConfig:
    """A simulation request.

    `start` (inclusive) and `end` (exclusive) are UTC-aware; rows are those whose
    interval starts in [start, end). `nodes` is None for real scale (about
    18,500 nodes over the seven ISOs), an int for that many nodes in every ISO,
    or a mapping per ISO (ISOs left out get real scale); hubs, zones and
    interfaces come on top. `markets` are LMP markets: `DAM` and `RTH` hourly,
    `RT5` five-minute; ancillary prices follow `DAM`/`RTH`. `load_kinds` are
    the kinds of `load` rows (actual, day-ahead forecast). `rt5_start`
    limits RT5 (and nothing else) to intervals from that instant on. LMP
    batches hold at most `max_batch_rows` rows (at least 12: one hour of one
    location at 5 minutes); the other datasets come as one small batch per ISO
    and quarter (tens of thousands of rows).
    """

    start: datetime
    end: datetime
    isos: tuple[Iso, ...] = tuple(Iso)
    nodes: int | Mapping[Iso, int] | None = None
    markets: tuple[str, ...] = MARKETS
    rt5_start: datetime | None = None
    datasets: tuple[Dataset, ...] = DEFAULT_DATASETS
    load_kinds: tuple[LoadKind, ...] = SIMULATED_LOAD_KINDS
    seed: int = 254
    max_batch_rows: int = DEFAULT_BATCH_ROWS

    def __post_init__(self) -> None:
        start_us, end_us = to_us(self.start), to_us(self.end)
        if end_us <= start_us:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        if start_us < 0:
            raise ValueError("simulated time starts at 1970-01-01 UTC")
        if self.rt5_start is not None:
            to_us(self.rt5_start)
        object.__setattr__(self, "isos", tuple(Iso(i) for i in self.isos))
        object.__setattr__(self, "datasets", tuple(Dataset(d) for d in self.datasets))
        object.__setattr__(self, "load_kinds", tuple(LoadKind(k) for k in self.load_kinds))
        beyond = [k.value for k in self.load_kinds if k not in SIMULATED_LOAD_KINDS]
        if beyond:
            raise ValueError(
                f"load_kinds {', '.join(beyond)} are not simulated; choose from "
                f"{', '.join(k.value for k in SIMULATED_LOAD_KINDS)}"
            )
        if not self.isos:
            raise ValueError("isos is empty")
        if len(set(self.isos)) != len(self.isos):
            raise ValueError(f"isos has duplicates: {self.isos}")
        unknown = [m for m in self.markets if m not in MARKETS]
        if unknown or len(set(self.markets)) != len(self.markets):
            raise ValueError(
                f"markets must be distinct values among {', '.join(MARKETS)}; got {self.markets}"
            )
        if len(set(self.datasets)) != len(self.datasets):
            raise ValueError(f"datasets has duplicates: {self.datasets}")
        if len(set(self.load_kinds)) != len(self.load_kinds):
            raise ValueError(f"load_kinds has duplicates: {self.load_kinds}")
        if not 0 <= self.seed < 1 << 63:
            raise ValueError(f"seed must be in [0, 2**63), got {self.seed}")
        if self.max_batch_rows < INTERVALS_PER_HOUR:
            raise ValueError(f"max_batch_rows must be at least {INTERVALS_PER_HOUR}")
        if isinstance(self.nodes, Mapping):
            for iso, count in self.nodes.items():
                Iso(iso)
                _check_count(count)
        elif self.nodes is not None:
            _check_count(self.nodes)

    def node_count(self, iso: Iso) -> int:
        """Nodes simulated for `iso` (hubs and zones excluded)."""
        if self.nodes is None:
            return simulation(iso).geography.default_nodes
        if isinstance(self.nodes, Mapping):
            return int(self.nodes.get(iso, simulation(iso).geography.default_nodes))
        return int(self.nodes)

    @property
    def start_us(self) -> int:
        """`start` in microseconds since the Unix epoch (UTC)."""
        return to_us(self.start)

    @property
    def end_us(self) -> int:
        """`end` in microseconds since the Unix epoch (UTC)."""
        return to_us(self.end)

    @property
    def rt5_start_us(self) -> int:
        """Start of RT5 generation: the later of `start` and `rt5_start`."""
        return self.start_us if self.rt5_start is None else max(self.start_us, to_us(self.rt5_start))


def _check_count(count: object) -> None:
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"node counts must be positive integers, got {count!r}")
