"""A seeded, realistic synthetic power market for the seven North American ISOs.

Simulated data is for demos, benchmarks and the live feed; it is never
presented as real. Prices come from a small physical model (weather-driven
load, solar, wind, outages), a supply stack with shortage pricing, and a
synthetic network (shift factors x constraint shadow prices), so that LMP
components, hubs, zones, DA/RT spreads, load and ancillary prices all hang
together. Any UTC day can be generated on its own and always comes out the
same for a given seed.
"""

from carbon254.simulate.config import SIMULATED_LOAD_KINDS, SimulationConfig
from carbon254.simulate.engine import count_rows, simulate, simulated_locations, simulated_markets
from carbon254.simulate.iso import IsoSimulation, default_node_counts, simulation
from carbon254.simulate.network import Network, build_network

__all__ = [
    "SIMULATED_LOAD_KINDS",
    "IsoSimulation",
    "Network",
    "SimulationConfig",
    "build_network",
    "count_rows",
    "default_node_counts",
    "simulate",
    "simulated_locations",
    "simulated_markets",
    "simulation",
]
