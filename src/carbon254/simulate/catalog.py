"""The shapes of a simulated ISO's fixed geography: real hub, zone and load-zone names on a map.

Each ISO's own map is declared in its package (`carbon254.isos.<iso>.simulation`).
Every ISO is drawn on its own unit square (x grows east, y grows north) so that
node placement, hub membership and shift factors can be computed from distances.
Coordinates are rough sketches of where each zone really is, which is what makes
simulated basis look familiar: ERCOT's West hub sits by the wind, PJM's Eastern
hub behind the eastern interfaces, NYISO's N.Y.C. at the end of the lines.

Areas are where nodes live. Most areas are also a priced zone (ERCOT LZ_*, PJM
zones, NYISO zones, ...); some are not (MISO's local resource zones are not
priced, ERCOT's Panhandle belongs to LZ_WEST). Load zones, for the `load`
dataset, follow each ISO's own load reporting (ERCOT weather zones, CAISO TAC
areas), which is not always its pricing zones.
"""

from __future__ import annotations

from dataclasses import dataclass

from carbon254.isos import Iso


@dataclass(frozen=True, slots=True)
class Area:
    """A cluster of nodes around (x, y) with spread `sd`.

    `zone` is the priced zone the area's nodes average into (None: not priced).
    `node_share` and `load_share` are relative, normalised per ISO. No two
    areas of an ISO share a name; node names may embed it (SPP, MISO).
    """

    name: str
    x: float
    y: float
    sd: float
    node_share: float
    load_share: float
    zone: str | None


@dataclass(frozen=True, slots=True)
class Hub:
    """A priced average of nodes: the nodes within `radius` of (x, y), equally weighted.

    A hub with `of_hubs` is instead built from other hubs: the mean of their
    prices (`union=False`, e.g. ERCOT HB_HUBAVG) or the equal-weight mean of all
    their buses (`union=True`, e.g. ERCOT HB_BUSAVG). `interface` marks an
    external proxy bus (NYISO's H Q, NPX, O H, PJM) rather than a trading hub.
    """

    name: str
    x: float = 0.0
    y: float = 0.0
    radius: float = 0.1
    of_hubs: tuple[str, ...] = ()
    union: bool = False
    interface: bool = False


@dataclass(frozen=True, slots=True)
class LoadZone:
    """A zone of the `load` dataset and its share of the ISO's load."""

    name: str
    share: float


@dataclass(frozen=True, slots=True)
class Flowgate:
    """An interface that congests in a known direction, the way each ISO's well-known ones do.

    The interface runs through (x, y); `import_side` (degrees, 0 = east,
    90 = north) points to the side that prices higher while it binds. `width`
    is how sharply prices change across it, `reach` how far its influence
    extends. Its flow is a mix of the system's load, wind and solar (each
    measured against normal) and persistent noise, in the proportions given;
    it binds `binding` of the time, at `scale` $/MWh of shadow price per unit
    of excess flow.
    """

    name: str
    x: float
    y: float
    import_side: float
    width: float = 0.05
    reach: float = 1.0
    load: float = 0.0
    wind: float = 0.0
    solar: float = 0.0
    noise: float = 0.5
    binding: float = 0.2
    scale: float = 20.0


@dataclass(frozen=True, slots=True)
class Geography:
    """Everything about an ISO's map that does not depend on the simulation seed."""

    iso: Iso
    areas: tuple[Area, ...]
    hubs: tuple[Hub, ...]
    load_zones: tuple[LoadZone, ...]
    default_nodes: int
    # Reference point for shift factors: congestion is measured against the load
    # centre, as with a distributed load slack.
    reference: tuple[float, float]
    # The interfaces that set each ISO's familiar price map; the simulation
    # seed adds smaller, random constraints on top.
    flowgates: tuple[Flowgate, ...] = ()

    @property
    def zones(self) -> tuple[str, ...]:
        """Priced zones in the order their areas are listed."""
        seen: dict[str, None] = {}
        for a in self.areas:
            if a.zone is not None:
                seen.setdefault(a.zone, None)
        return tuple(seen)


def zones_from_areas(areas: tuple[Area, ...]) -> tuple[LoadZone, ...]:
    """Load zones that are the areas themselves, each with its area's load share."""
    return tuple(LoadZone(a.name, a.load_share) for a in areas)
