"""A synthetic transmission network per ISO: nodes on a map, constraints, shift factors, losses.

Node prices are built as energy + congestion + loss where congestion is the
shift-factor matrix (locations x constraints) times the constraints' shadow
prices. Shift factors vary smoothly with position, so nearby nodes move
together and every node's congestion lies in the span of at most `constraints`
shadow-price series, as in a real LMP decomposition.

Hubs and zones are rows of an averaging matrix over nodes; by linearity their
shift factors and loss factors are the same averages, so a hub's components
equal the average of its nodes' components before rounding.

Node placement, names and load weights are the ISO's fixed geography (seed
independent, so the location catalog never changes); constraints and losses are
drawn from the simulation seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from carbon254.isos import Iso
from carbon254.schema import LocationType
from carbon254.simulate.catalog import Geography
from carbon254.simulate.iso import simulation
from carbon254.simulate.names import node_names
from carbon254.simulate.streams import Stream, generator

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Seed of the fixed geography: part of the catalog, not of the simulation.
_GEOGRAPHY_SEED = 0


@dataclass(frozen=True, slots=True)
class Constraints:
    """How each constraint's flow responds to the system, and what binding costs.

    A constraint's standardised flow is `drivers @ (load, wind, solar)` plus its
    own noise (weight `noise`); it binds when the flow exceeds `threshold`, and
    its shadow price ($/MWh) is `scale` per unit of excess, capped at `cap`.
    """

    drivers: FloatArray  # (K, 3)
    noise: FloatArray  # (K,)
    threshold: FloatArray  # (K,)
    scale: FloatArray  # (K,)
    cap: FloatArray  # (K,)

    @property
    def count(self) -> int:
        """Number of constraints (K)."""
        return int(self.threshold.shape[0])


@dataclass(frozen=True, slots=True)
class Network:
    """Locations of one ISO and the linear maps from system prices to location prices.

    Rows of `shift_factors` and `loss_factors` follow `locations`: first the
    aggregates (hubs, interfaces, zones, in catalog order), then the nodes.
    `weights[i, j]` is node j's weight in aggregate i (rows sum to 1).
    """

    iso: Iso
    locations: tuple[str, ...]
    location_types: tuple[str, ...]
    shift_factors: FloatArray  # (locations, K)
    loss_factors: FloatArray  # (locations,)
    weights: FloatArray  # (aggregates, nodes)
    constraints: Constraints

    @property
    def aggregates(self) -> int:
        """Number of hubs, interfaces and zones (the first rows of `locations`)."""
        return int(self.weights.shape[0])

    @property
    def nodes(self) -> int:
        """Number of nodes (the rows after the aggregates)."""
        return int(self.weights.shape[1])


@dataclass(frozen=True, slots=True)
class _Placement:
    area: IntArray
    position: FloatArray  # (nodes, 2)
    load_weight: FloatArray
    names: tuple[str, ...]


def _frozen(a: npt.NDArray[np.float64]) -> FloatArray:
    a.setflags(write=False)
    return a


@lru_cache(maxsize=16)
def _placement(iso: Iso, count: int) -> _Placement:
    """Where nodes sit and what they are called: prefix-stable in `count`."""
    sim = simulation(iso)
    geo = sim.geography
    idx = sim.stream_index
    shares = np.array([a.node_share for a in geo.areas])
    cdf = np.cumsum(shares / shares.sum())
    u = generator(_GEOGRAPHY_SEED, idx, Stream.GEOGRAPHY, 0).random(count)
    area = np.minimum(np.searchsorted(cdf, u, side="right"), len(geo.areas) - 1).astype(np.int64)
    # The first nodes go one to each area so that every zone has a node of its
    # own as soon as there are as many nodes as areas.
    head = min(count, len(geo.areas))
    area[:head] = np.arange(head)
    centre = np.array([[a.x, a.y] for a in geo.areas])[area]
    spread = np.array([a.sd for a in geo.areas])[area]
    jitter = generator(_GEOGRAPHY_SEED, idx, Stream.GEOGRAPHY, 1).standard_normal((count, 2))
    position = np.clip(centre + spread[:, None] * jitter, 0.0, 1.0)
    # Load per node is uneven (a few big load buses, many small ones) and scaled
    # so each area's total follows its load share.
    lognormal = np.exp(0.8 * generator(_GEOGRAPHY_SEED, idx, Stream.GEOGRAPHY, 2).standard_normal(count))
    per_area = np.array([a.load_share / a.node_share for a in geo.areas])
    reserved = [h.name for h in geo.hubs] + list(geo.zones)
    names = node_names(sim.node_name, idx, [geo.areas[i].name for i in area], reserved)
    return _Placement(area, _frozen(position), _frozen(lognormal * per_area[area]), tuple(names))


def _nearest(position: FloatArray, x: float, y: float) -> int:
    return int(np.argmin(np.hypot(position[:, 0] - x, position[:, 1] - y)))


def _aggregation(geo: Geography, p: _Placement) -> tuple[list[str], list[str], FloatArray]:
    """Names, types and node weights of every hub, interface and zone."""
    n = p.position.shape[0]
    names: list[str] = []
    types: list[str] = []
    rows: list[FloatArray] = []
    members: dict[str, FloatArray] = {}
    for hub in geo.hubs:
        if hub.of_hubs:
            if hub.union:
                mask = np.zeros(n)
                for h in hub.of_hubs:
                    mask = np.maximum(mask, members[h] > 0)
                row = mask / mask.sum()
            else:
                row = np.mean([members[h] for h in hub.of_hubs], axis=0)
        else:
            dist = np.hypot(p.position[:, 0] - hub.x, p.position[:, 1] - hub.y)
            inside = (dist <= hub.radius).astype(np.float64)
            if not inside.any():
                inside[_nearest(p.position, hub.x, hub.y)] = 1.0
            row = inside / inside.sum()
        members[hub.name] = row
        names.append(hub.name)
        types.append(LocationType.INTERFACE.value if hub.interface else LocationType.HUB.value)
        rows.append(row)
    area_zone = np.array([a.zone or "" for a in geo.areas])[p.area]
    for zone in geo.zones:
        w = np.where(area_zone == zone, p.load_weight, 0.0)
        if not w.any():
            first = next(a for a in geo.areas if a.zone == zone)
            w[_nearest(p.position, first.x, first.y)] = 1.0
        names.append(zone)
        types.append(LocationType.ZONE.value)
        rows.append(w / w.sum())
    return names, types, np.array(rows).reshape(len(rows), n)


def _flowgates(geo: Geography) -> tuple[Constraints, FloatArray]:
    """The ISO's known interfaces as constraints, with their geometry (centre x, y, angle, width, reach)."""
    gates = geo.flowgates
    drivers = np.array([[g.load, g.wind, g.solar] for g in gates]).reshape(len(gates), 3)
    noise = np.array([g.noise for g in gates])
    norm = np.sqrt(np.sum(drivers * drivers, axis=1) + noise * noise)
    geometry = np.array([[g.x, g.y, np.radians(g.import_side), g.width, g.reach] for g in gates]).reshape(
        len(gates), 5
    )
    return (
        Constraints(
            drivers=drivers / norm[:, None],
            noise=noise / norm,
            threshold=np.array([NormalDist().inv_cdf(1.0 - g.binding) for g in gates]),
            scale=np.array([g.scale for g in gates]),
            cap=np.full(len(gates), 1_000.0),
        ),
        geometry,
    )


def _constraints(iso: Iso, seed: int, geo: Geography) -> tuple[Constraints, FloatArray]:
    """The known interfaces, then seeded random ones, with geometry rows (x, y, angle, width, reach)."""
    sim = simulation(iso)
    model = sim.model
    k = model.constraints
    rng = generator(seed, sim.stream_index, Stream.NETWORK, 0)
    load_share = np.array([a.load_share for a in geo.areas])
    at = rng.choice(len(geo.areas), size=k, p=load_share / load_share.sum())
    centre = np.array([[geo.areas[i].x, geo.areas[i].y] for i in at]) + 0.08 * rng.standard_normal((k, 2))
    angle = rng.uniform(0.0, 2.0 * np.pi, k)
    width = rng.uniform(0.04, 0.15, k)
    reach = rng.uniform(0.25, 0.6, k)
    geometry = np.column_stack([centre, angle, width, reach])
    # Each constraint is pushed mostly by one thing: load, wind or solar.
    dominant = rng.integers(0, 3, k)
    drivers = 0.3 * rng.standard_normal((k, 3))
    drivers[np.arange(k), dominant] = rng.uniform(0.7, 1.2, k)
    noise = rng.uniform(0.5, 1.0, k)
    norm = np.sqrt(np.sum(drivers * drivers, axis=1) + noise * noise)
    # How often each constraint binds, from rarely to a quarter of the time.
    binding = rng.uniform(0.02, 0.25, k)
    threshold = np.array([NormalDist().inv_cdf(1.0 - b) for b in binding])
    scale = model.congestion_scale * np.exp(0.5 * rng.standard_normal(k))
    known, known_geometry = _flowgates(geo)
    return (
        Constraints(
            drivers=_frozen(np.vstack([known.drivers, drivers / norm[:, None]])),
            noise=_frozen(np.concatenate([known.noise, noise / norm])),
            threshold=_frozen(np.concatenate([known.threshold, threshold])),
            scale=_frozen(np.concatenate([known.scale, scale])),
            cap=_frozen(np.concatenate([known.cap, np.full(k, 1_000.0)])),
        ),
        np.vstack([known_geometry, geometry]),
    )


def _shift_factors(position: FloatArray, geometry: FloatArray, reference: tuple[float, float]) -> FloatArray:
    """Smooth shift factors: which side of each constraint a point is on, fading with distance."""

    def at(points: FloatArray) -> FloatArray:
        dx = points[:, None, 0] - geometry[None, :, 0]
        dy = points[:, None, 1] - geometry[None, :, 1]
        across = dx * np.cos(geometry[None, :, 2]) + dy * np.sin(geometry[None, :, 2])
        fade = np.exp(-(dx * dx + dy * dy) / (2.0 * geometry[None, :, 4] ** 2))
        return np.asarray(0.3 * np.tanh(across / geometry[None, :, 3]) * fade, dtype=np.float64)

    # Relative to the load centre, as with a distributed load slack.
    return at(position) - at(np.array([reference]))


@lru_cache(maxsize=16)
def location_catalog(iso: Iso, nodes: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Names and location types of `iso`'s locations (aggregates first, then nodes); seed independent."""
    if nodes < 1:
        raise ValueError(f"nodes must be at least 1, got {nodes}")
    p = _placement(iso, nodes)
    names, types, _ = _aggregation(simulation(iso).geography, p)
    return (*names, *p.names), (*types, *([LocationType.NODE.value] * nodes))


@lru_cache(maxsize=32)
def build_network(iso: Iso, nodes: int, seed: int) -> Network:
    """The simulated network of `iso` with `nodes` nodes for a given seed (cached).

    Shift factors are dimensionless ($/MWh of location congestion per $/MWh of
    shadow price); loss factors are fractions of the energy price.
    """
    if nodes < 1:
        raise ValueError(f"nodes must be at least 1, got {nodes}")
    sim = simulation(iso)
    geo, model = sim.geography, sim.model
    p = _placement(iso, nodes)
    agg_names, agg_types, weights = _aggregation(geo, p)
    constraints, geometry = _constraints(iso, seed, geo)
    node_sf = _shift_factors(p.position, geometry, geo.reference)
    rng = generator(seed, sim.stream_index, Stream.NETWORK, 1)
    direction = rng.uniform(0.0, 2.0 * np.pi)
    offset = p.position - np.array(geo.reference)
    along = offset[:, 0] * np.cos(direction) + offset[:, 1] * np.sin(direction)
    # A per-node draw from its own stream keeps node i's loss factor independent
    # of how many nodes are simulated.
    own = generator(seed, sim.stream_index, Stream.NETWORK, 2).standard_normal(nodes)
    node_loss = model.loss_spread * (along / 0.4 + 0.25 * own)
    return Network(
        iso=iso,
        locations=(*agg_names, *p.names),
        location_types=(*agg_types, *([LocationType.NODE.value] * nodes)),
        shift_factors=_frozen(np.vstack([weights @ node_sf, node_sf])),
        loss_factors=_frozen(np.concatenate([weights @ node_loss, node_loss])),
        weights=_frozen(weights),
        constraints=constraints,
    )
