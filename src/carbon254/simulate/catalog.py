"""The fixed geography of each simulated ISO: real hub, zone and load-zone names on a map.

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


def _zones_from_areas(areas: tuple[Area, ...]) -> tuple[LoadZone, ...]:
    return tuple(LoadZone(a.name, a.load_share) for a in areas)


_CAISO_AREAS = (
    Area("PGAE", 0.30, 0.70, 0.13, 0.46, 0.45, "DLAP_PGAE-APND"),
    Area("SCE", 0.65, 0.25, 0.10, 0.40, 0.44, "DLAP_SCE-APND"),
    Area("SDGE", 0.75, 0.05, 0.05, 0.10, 0.10, "DLAP_SDGE-APND"),
    Area("VEA", 0.95, 0.45, 0.04, 0.04, 0.01, "DLAP_VEA-APND"),
)

_ERCOT_AREAS = (
    Area("HOUSTON", 0.80, 0.30, 0.06, 0.20, 0.27, "LZ_HOUSTON"),
    Area("NORTH", 0.65, 0.70, 0.09, 0.24, 0.33, "LZ_NORTH"),
    Area("SOUTH", 0.52, 0.15, 0.08, 0.14, 0.12, "LZ_SOUTH"),
    Area("WEST", 0.20, 0.50, 0.10, 0.18, 0.09, "LZ_WEST"),
    Area("PANHANDLE", 0.25, 0.92, 0.06, 0.06, 0.005, "LZ_WEST"),
    Area("AEN", 0.56, 0.42, 0.03, 0.03, 0.04, "LZ_AEN"),
    Area("CPS", 0.48, 0.30, 0.03, 0.05, 0.06, "LZ_CPS"),
    Area("LCRA", 0.50, 0.48, 0.05, 0.06, 0.07, "LZ_LCRA"),
    Area("RAYBN", 0.76, 0.66, 0.03, 0.02, 0.02, "LZ_RAYBN"),
)

_PJM_AREAS = (
    Area("COMED", 0.05, 0.75, 0.05, 0.12, 0.13, "COMED"),
    Area("AEP", 0.35, 0.45, 0.08, 0.15, 0.15, "AEP"),
    Area("DAY", 0.28, 0.56, 0.03, 0.02, 0.02, "DAY"),
    Area("DEOK", 0.24, 0.45, 0.03, 0.03, 0.03, "DEOK"),
    Area("ATSI", 0.45, 0.70, 0.05, 0.08, 0.08, "ATSI"),
    Area("DUQ", 0.52, 0.60, 0.02, 0.015, 0.015, "DUQ"),
    Area("APS", 0.60, 0.50, 0.05, 0.05, 0.05, "APS"),
    Area("PENELEC", 0.62, 0.72, 0.04, 0.03, 0.02, "PENELEC"),
    Area("EKPC", 0.25, 0.30, 0.04, 0.015, 0.015, "EKPC"),
    Area("DOM", 0.72, 0.25, 0.07, 0.15, 0.16, "DOM"),
    Area("PEPCO", 0.78, 0.44, 0.02, 0.035, 0.04, "PEPCO"),
    Area("BGE", 0.81, 0.50, 0.02, 0.035, 0.04, "BGE"),
    Area("METED", 0.77, 0.62, 0.02, 0.02, 0.02, "METED"),
    Area("PPL", 0.82, 0.70, 0.03, 0.05, 0.05, "PPL"),
    Area("PECO", 0.87, 0.60, 0.02, 0.045, 0.05, "PECO"),
    Area("PSEG", 0.93, 0.70, 0.02, 0.05, 0.05, "PSEG"),
    Area("JCPL", 0.95, 0.62, 0.02, 0.03, 0.03, "JCPL"),
    Area("AECO", 0.92, 0.52, 0.02, 0.015, 0.015, "AECO"),
    Area("DPL", 0.88, 0.45, 0.03, 0.025, 0.025, "DPL"),
    Area("RECO", 0.95, 0.78, 0.01, 0.003, 0.002, "RECO"),
    Area("OVEC", 0.30, 0.37, 0.02, 0.004, 0.003, "OVEC"),
)

_MISO_AREAS = (
    Area("LRZ1", 0.30, 0.88, 0.10, 0.17, 0.18, None),
    Area("LRZ2", 0.55, 0.85, 0.06, 0.09, 0.10, None),
    Area("LRZ3", 0.36, 0.70, 0.06, 0.09, 0.07, None),
    Area("LRZ4", 0.50, 0.60, 0.05, 0.07, 0.07, None),
    Area("LRZ5", 0.42, 0.50, 0.04, 0.05, 0.06, None),
    Area("LRZ6", 0.62, 0.60, 0.06, 0.14, 0.14, None),
    Area("LRZ7", 0.72, 0.80, 0.05, 0.14, 0.16, None),
    Area("LRZ8", 0.35, 0.30, 0.05, 0.06, 0.05, None),
    Area("LRZ9", 0.30, 0.10, 0.10, 0.16, 0.15, None),
    Area("LRZ10", 0.50, 0.20, 0.04, 0.03, 0.02, None),
)

_SPP_AREAS = (
    Area("NPPD", 0.35, 0.80, 0.08, 0.08, 0.07, "NPPD_NPPD"),
    Area("OPPD", 0.60, 0.78, 0.03, 0.04, 0.06, "OPPD_OPPD"),
    Area("LES", 0.55, 0.75, 0.02, 0.02, 0.02, "LES_LES"),
    Area("KCPL", 0.75, 0.62, 0.03, 0.07, 0.08, "KCPL_KCPL"),
    Area("WR", 0.55, 0.60, 0.07, 0.13, 0.13, "WR_WR"),
    Area("SECI", 0.30, 0.58, 0.05, 0.04, 0.03, "SECI_SECI"),
    Area("EDE", 0.80, 0.50, 0.02, 0.03, 0.03, "EDE_EDE"),
    Area("GRDA", 0.72, 0.45, 0.03, 0.03, 0.03, "GRDA_GRDA"),
    Area("INDN", 0.78, 0.64, 0.01, 0.01, 0.01, "INDN_INDN"),
    Area("SPRM", 0.85, 0.52, 0.02, 0.02, 0.02, "SPRM_SPRM"),
    Area("OKGE", 0.55, 0.35, 0.05, 0.12, 0.13, "OKGE_OKGE"),
    Area("WFEC", 0.43, 0.32, 0.06, 0.06, 0.04, "WFEC_WFEC"),
    Area("CSWS", 0.75, 0.20, 0.07, 0.16, 0.18, "AEPM_CSWS"),
    Area("SPS", 0.20, 0.30, 0.08, 0.19, 0.11, "SPS_SPS"),
)

_NYISO_AREAS = (
    Area("WEST", 0.10, 0.60, 0.06, 0.14, 0.10, "WEST"),
    Area("GENESE", 0.26, 0.65, 0.04, 0.07, 0.06, "GENESE"),
    Area("CENTRL", 0.45, 0.65, 0.06, 0.12, 0.09, "CENTRL"),
    Area("NORTH", 0.62, 0.95, 0.05, 0.08, 0.03, "NORTH"),
    Area("MHK VL", 0.65, 0.72, 0.04, 0.07, 0.05, "MHK VL"),
    Area("CAPITL", 0.80, 0.70, 0.03, 0.08, 0.07, "CAPITL"),
    Area("HUD VL", 0.80, 0.40, 0.03, 0.08, 0.06, "HUD VL"),
    Area("MILLWD", 0.82, 0.30, 0.01, 0.02, 0.02, "MILLWD"),
    Area("DUNWOD", 0.84, 0.24, 0.01, 0.03, 0.04, "DUNWOD"),
    Area("N.Y.C.", 0.85, 0.14, 0.02, 0.20, 0.32, "N.Y.C."),
    Area("LONGIL", 0.95, 0.12, 0.02, 0.11, 0.13, "LONGIL"),
)

_ISONE_AREAS = (
    Area("ME", 0.75, 0.90, 0.06, 0.14, 0.09, ".Z.MAINE"),
    Area("NH", 0.60, 0.70, 0.04, 0.10, 0.09, ".Z.NEWHAMPSHIRE"),
    Area("VT", 0.40, 0.75, 0.04, 0.07, 0.04, ".Z.VERMONT"),
    Area("WCMA", 0.35, 0.45, 0.04, 0.12, 0.11, ".Z.WCMASS"),
    Area("NEMA", 0.70, 0.50, 0.02, 0.16, 0.20, ".Z.NEMASSBOST"),
    Area("SEMA", 0.75, 0.35, 0.03, 0.13, 0.13, ".Z.SEMASS"),
    Area("RI", 0.62, 0.30, 0.02, 0.07, 0.06, ".Z.RHODEISLAND"),
    Area("CT", 0.40, 0.25, 0.05, 0.21, 0.27, ".Z.CONNECTICUT"),
)

GEOGRAPHY: dict[Iso, Geography] = {
    Iso.CAISO: Geography(
        Iso.CAISO,
        _CAISO_AREAS,
        (
            Hub("TH_NP15_GEN-APND", 0.30, 0.72, 0.25),
            Hub("TH_ZP26_GEN-APND", 0.46, 0.45, 0.12),
            Hub("TH_SP15_GEN-APND", 0.68, 0.22, 0.22),
        ),
        (LoadZone("PGE", 0.45), LoadZone("SCE", 0.44), LoadZone("SDGE", 0.10), LoadZone("VEA", 0.01)),
        3_000,
        (0.50, 0.45),
        (
            # Southern solar fills Path 26 northbound at midday, pricing SP15 under NP15;
            # on hot evenings the flow turns and the south imports.
            Flowgate("PATH 26 NORTH", 0.50, 0.47, 90.0, solar=0.9, noise=0.5, binding=0.3, scale=12.0),
            Flowgate(
                "PATH 26 SOUTH", 0.50, 0.47, -90.0, load=0.8, solar=-0.4, noise=0.5, binding=0.08, scale=20.0
            ),
            Flowgate(
                "SAN DIEGO IMPORT", 0.72, 0.12, -90.0, 0.03, 0.4, load=0.8, noise=0.6, binding=0.2, scale=25.0
            ),
        ),
    ),
    Iso.ERCOT: Geography(
        Iso.ERCOT,
        _ERCOT_AREAS,
        (
            Hub("HB_HOUSTON", 0.80, 0.30, 0.10),
            Hub("HB_NORTH", 0.65, 0.72, 0.12),
            Hub("HB_SOUTH", 0.50, 0.20, 0.12),
            Hub("HB_WEST", 0.20, 0.50, 0.15),
            Hub("HB_PAN", 0.25, 0.92, 0.10),
            Hub("HB_HUBAVG", of_hubs=("HB_HOUSTON", "HB_NORTH", "HB_SOUTH", "HB_WEST")),
            Hub("HB_BUSAVG", of_hubs=("HB_HOUSTON", "HB_NORTH", "HB_SOUTH", "HB_WEST"), union=True),
        ),
        (
            LoadZone("COAST", 0.28),
            LoadZone("EAST", 0.04),
            LoadZone("FWEST", 0.08),
            LoadZone("NORTH", 0.02),
            LoadZone("NCENT", 0.35),
            LoadZone("SOUTH", 0.08),
            LoadZone("SCENT", 0.11),
            LoadZone("WEST", 0.04),
        ),
        1_050,
        (0.62, 0.45),
        (
            # West Texas wind and solar outrun the lines east: the West and the
            # Panhandle price low and often negative on windy nights.
            Flowgate(
                "WEST TO NORTH", 0.38, 0.60, 0.0, wind=0.9, solar=0.3, noise=0.4, binding=0.3, scale=35.0
            ),
            Flowgate(
                "SOUTH EXPORT",
                0.50,
                0.24,
                90.0,
                0.04,
                wind=0.8,
                solar=0.3,
                noise=0.5,
                binding=0.15,
                scale=8.0,
            ),
            Flowgate(
                "HOUSTON IMPORT", 0.72, 0.30, 0.0, 0.03, 0.5, load=0.9, noise=0.5, binding=0.15, scale=25.0
            ),
        ),
    ),
    Iso.PJM: Geography(
        Iso.PJM,
        _PJM_AREAS,
        (
            Hub("WESTERN HUB", 0.62, 0.55, 0.12),
            Hub("EASTERN HUB", 0.90, 0.55, 0.08),
            Hub("AEP-DAYTON HUB", 0.32, 0.50, 0.12),
            Hub("N ILLINOIS HUB", 0.05, 0.75, 0.10),
            Hub("DOMINION HUB", 0.72, 0.25, 0.10),
            Hub("NEW JERSEY HUB", 0.93, 0.66, 0.07),
            Hub("OHIO HUB", 0.38, 0.55, 0.10),
            Hub("WEST INT HUB", 0.20, 0.60, 0.10),
            Hub("CHICAGO HUB", 0.07, 0.78, 0.05),
            Hub("ATSI GEN HUB", 0.45, 0.70, 0.08),
        ),
        _zones_from_areas(_PJM_AREAS),
        8_600,
        (0.60, 0.55),
        (
            # Power flows west to east into the Mid-Atlantic and Dominion load
            # centres; northern Illinois wind is bottled up on windy nights.
            Flowgate("WEST TO EAST", 0.68, 0.50, 0.0, 0.03, load=0.8, noise=0.6, binding=0.3, scale=20.0),
            Flowgate(
                "COMED WIND EXPORT", 0.15, 0.70, 0.0, 0.04, wind=0.9, noise=0.5, binding=0.2, scale=20.0
            ),
        ),
    ),
    Iso.MISO: Geography(
        Iso.MISO,
        _MISO_AREAS,
        (
            Hub("ILLINOIS.HUB", 0.50, 0.60, 0.10),
            Hub("INDIANA.HUB", 0.62, 0.60, 0.10),
            Hub("MICHIGAN.HUB", 0.72, 0.80, 0.10),
            Hub("MINN.HUB", 0.30, 0.88, 0.12),
            Hub("ARKANSAS.HUB", 0.35, 0.30, 0.10),
            Hub("LOUISIANA.HUB", 0.38, 0.12, 0.10),
            Hub("TEXAS.HUB", 0.15, 0.12, 0.10),
            Hub("MS.HUB", 0.50, 0.20, 0.08),
        ),
        _zones_from_areas(_MISO_AREAS),
        2_900,
        (0.50, 0.55),
        (
            Flowgate(
                "MINNESOTA WIND EXPORT", 0.38, 0.78, -45.0, wind=0.9, noise=0.5, binding=0.25, scale=20.0
            ),
            Flowgate("SOUTH TO NORTH", 0.45, 0.40, 90.0, load=0.7, noise=0.7, binding=0.1, scale=20.0),
        ),
    ),
    Iso.SPP: Geography(
        Iso.SPP,
        _SPP_AREAS,
        (
            Hub("SPPNORTH_HUB", 0.60, 0.70, 0.20),
            Hub("SPPSOUTH_HUB", 0.50, 0.33, 0.20),
        ),
        tuple(LoadZone(a.name, a.load_share) for a in _SPP_AREAS),
        1_100,
        (0.55, 0.50),
        (
            # Western and northern wind outruns the lines to the eastern load.
            Flowgate("WEST TO EAST", 0.42, 0.55, 0.0, wind=0.9, noise=0.4, binding=0.3, scale=20.0),
            Flowgate(
                "NORTH TO SOUTH", 0.55, 0.50, -90.0, load=0.5, wind=0.5, noise=0.5, binding=0.15, scale=15.0
            ),
        ),
    ),
    Iso.NYISO: Geography(
        Iso.NYISO,
        _NYISO_AREAS,
        (
            Hub("H Q", 0.65, 0.97, 0.12, interface=True),
            Hub("NPX", 0.88, 0.55, 0.18, interface=True),
            Hub("O H", 0.12, 0.72, 0.15, interface=True),
            Hub("PJM", 0.60, 0.50, 0.20, interface=True),
        ),
        _zones_from_areas(_NYISO_AREAS),
        700,
        (0.70, 0.35),
        (
            # Upstate supply reaches the east over Central-East and New York City
            # over the Dunwoodie lines: N.Y.C. and Long Island price above upstate.
            Flowgate("CENTRAL EAST", 0.72, 0.62, 0.0, load=0.3, wind=0.5, noise=0.7, binding=0.4, scale=35.0),
            Flowgate(
                "DUNWOODIE SOUTH", 0.85, 0.19, -90.0, 0.03, load=0.9, noise=0.5, binding=0.35, scale=45.0
            ),
            Flowgate("WEST EXPORT", 0.20, 0.60, 0.0, 0.04, wind=0.7, noise=0.7, binding=0.08, scale=18.0),
        ),
    ),
    Iso.ISONE: Geography(
        Iso.ISONE,
        _ISONE_AREAS,
        (Hub(".H.INTERNAL_HUB", 0.50, 0.45, 0.22),),
        tuple(LoadZone(a.zone or a.name, a.load_share) for a in _ISONE_AREAS),
        1_150,
        (0.55, 0.45),
        (
            Flowgate("MAINE EXPORT", 0.65, 0.80, -90.0, 0.04, wind=0.6, noise=0.7, binding=0.15, scale=15.0),
            Flowgate(
                "BOSTON IMPORT", 0.66, 0.47, 0.0, 0.03, 0.4, load=0.8, noise=0.6, binding=0.08, scale=15.0
            ),
        ),
    ),
}

# Fixed order of ISOs for keying random streams: adding an ISO to `Iso` must not
# change the numbers of the ones already there.
ISO_INDEX: dict[Iso, int] = {
    Iso.CAISO: 1,
    Iso.ERCOT: 2,
    Iso.PJM: 3,
    Iso.MISO: 4,
    Iso.SPP: 5,
    Iso.NYISO: 6,
    Iso.ISONE: 7,
}


def default_node_counts() -> dict[Iso, int]:
    """Real-scale node counts per ISO (about 18,500 in total), hubs and zones excluded."""
    return {iso: g.default_nodes for iso, g in GEOGRAPHY.items()}
