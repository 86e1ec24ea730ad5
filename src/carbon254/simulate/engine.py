"""Running a simulation: ISO by ISO, block of days by block, dataset by dataset, in bounded batches."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa

from carbon254.isos import Iso
from carbon254.schema import Dataset
from carbon254.simulate.ancillary import AS_MARKETS, as_tables
from carbon254.simulate.capacity import capacity_table
from carbon254.simulate.clock import FIVE_MINUTES, US_PER_DAY, US_PER_HOUR, grid_count
from carbon254.simulate.config import MARKETS, SIMULATED_LOAD_KINDS, SimulationConfig
from carbon254.simulate.iso import simulation
from carbon254.simulate.lmp import five_minute_lmp, hourly_lmp
from carbon254.simulate.loads import load_table
from carbon254.simulate.network import build_network, location_catalog
from carbon254.simulate.ordc import ordc_table
from carbon254.simulate.system import simulate_system

# System state is computed a quarter at a time: small enough to keep memory flat
# over long windows, large enough that per-block overheads do not matter.
BLOCK_DAYS = 92


def _blocks(config: SimulationConfig) -> Iterator[tuple[int, int]]:
    first = config.start_us // US_PER_DAY
    last = -(-config.end_us // US_PER_DAY)
    for day in range(first, last, BLOCK_DAYS):
        yield day, min(BLOCK_DAYS, last - day)


def simulate(config: SimulationConfig) -> Iterator[tuple[Dataset, pa.Table]]:
    """Yield (dataset, batch) pairs of simulated market data in the canonical schemas.

    Prices are $/MWh (energy, LMP components, ORDC adders), $/MW-h (ancillary
    services) and $/MW-day (capacity); load is MW; every timestamp is UTC.
    A batch holds one ISO and one dataset (and one market for LMP and AS); LMP
    batches hold at most `config.max_batch_rows` rows, others are small, so
    memory stays flat at any scale. `published_at` is set, `ingested_at` is
    null (the store fills it).
    For a given seed, the rows of any UTC day do not depend on the window
    simulated. Every batch passes `carbon254.schema.validate`.
    """
    wanted = set(config.datasets)
    lmp_markets = [m for m in config.markets if Dataset.LMP in wanted]
    for iso in config.isos:
        auction = simulation(iso).capacity
        if Dataset.CAPACITY_PRICE in wanted and auction is not None:
            for table in capacity_table(iso, auction, config.seed, config.start_us, config.end_us):
                yield Dataset.CAPACITY_PRICE, table
        network = build_network(iso, config.node_count(iso), config.seed)
        for first_day, days in _blocks(config):
            system = simulate_system(iso, network.constraints, config.seed, first_day, days)
            for market in lmp_markets:
                if market == "RT5":
                    tables = five_minute_lmp(
                        network, system, config.rt5_start_us, config.end_us, config.max_batch_rows
                    )
                else:
                    tables = hourly_lmp(
                        network, system, market, config.start_us, config.end_us, config.max_batch_rows
                    )
                for table in tables:
                    yield Dataset.LMP, table
            if Dataset.AS_PRICE in wanted:
                for table in as_tables(system, config.seed, config.markets, config.start_us, config.end_us):
                    yield Dataset.AS_PRICE, table
            if Dataset.LOAD in wanted:
                for table in load_table(
                    system, config.seed, config.start_us, config.end_us, config.load_kinds
                ):
                    yield Dataset.LOAD, table
            if Dataset.ORDC_ADDER in wanted:
                for table in ordc_table(system, config.start_us, config.end_us):
                    yield Dataset.ORDC_ADDER, table


def count_rows(config: SimulationConfig) -> int:
    """Exactly how many rows `simulate(config)` yields in total, computed without simulating."""
    hours = grid_count(config.start_us, config.end_us, US_PER_HOUR)
    fives = grid_count(config.start_us, config.end_us, FIVE_MINUTES)
    rt5 = grid_count(config.rt5_start_us, config.end_us, FIVE_MINUTES)
    wanted = set(config.datasets)
    total = 0
    for iso in config.isos:
        sim = simulation(iso)
        if Dataset.LMP in wanted:
            locations = len(location_catalog(iso, config.node_count(iso))[0])
            per_location = sum(rt5 if m == "RT5" else hours for m in config.markets)
            total += locations * per_location
        if Dataset.AS_PRICE in wanted:
            model = sim.model
            markets = sum(1 for m in AS_MARKETS if m in config.markets)
            total += markets * len(model.as_products) * len(model.as_regions) * hours
        if Dataset.LOAD in wanted:
            total += len(config.load_kinds) * len(sim.geography.load_zones) * hours
        if Dataset.ORDC_ADDER in wanted and sim.model.ordc_adders:
            total += fives
        if Dataset.CAPACITY_PRICE in wanted and sim.capacity is not None:
            tables = capacity_table(iso, sim.capacity, config.seed, config.start_us, config.end_us)
            total += sum(t.num_rows for t in tables)
    return total


def simulated_locations(iso: Iso, nodes: int | None = None) -> pa.Table:
    """The catalog of simulated locations of `iso`: columns iso, location, location_type.

    Hubs, interfaces and zones come first, then `nodes` nodes (None = real
    scale). Names do not depend on the seed, and the first n nodes are the
    same whatever the total, so the catalog is stable across runs.
    """
    count = simulation(Iso(iso)).geography.default_nodes if nodes is None else nodes
    names, types = location_catalog(Iso(iso), count)
    return pa.table(
        {
            "iso": pa.array([Iso(iso).value] * len(names), pa.string()),
            "location": pa.array(names, pa.string()),
            "location_type": pa.array(types, pa.string()),
        }
    )


def simulated_markets(iso: Iso) -> dict[Dataset, tuple[str | None, ...]]:
    """What the simulator makes for `iso`: each dataset and its markets (auctions, load kinds).

    LMPs, ancillary prices and load for every ISO, ERCOT's ORDC adders
    (a dataset without markets: `(None,)`), and capacity prices where the ISO
    runs a capacity auction.
    """
    made: dict[Dataset, tuple[str | None, ...]] = {
        Dataset.LMP: MARKETS,
        Dataset.AS_PRICE: AS_MARKETS,
        Dataset.LOAD: tuple(k.value for k in SIMULATED_LOAD_KINDS),
    }
    sim = simulation(iso)
    if sim.capacity is not None:
        made[Dataset.CAPACITY_PRICE] = (sim.capacity.name,)
    if sim.model.ordc_adders:
        made[Dataset.ORDC_ADDER] = (None,)
    return made
