"""One ISO as the simulator sees it, declared in the ISO's own package.

Each ISO package (`carbon254.isos.<iso>.simulation`) declares a `SIMULATION`:
its map (areas, hubs, zones, load zones, interfaces), its market parameters,
how its nodes are named and, where it runs one, its capacity auction. The
engine here is ISO-agnostic: it reads those declarations and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from carbon254.isos import Iso, declaration
from carbon254.simulate.capacity import CapacityAuction
from carbon254.simulate.catalog import Geography
from carbon254.simulate.models import IsoModel
from carbon254.simulate.names import Digits

# A node's name from a hash's digits, its area code and its index.
NodeStyle = Callable[[Digits, str, int], str]


@dataclass(frozen=True, slots=True)
class IsoSimulation:
    """Everything that makes one ISO's simulated market its own.

    `stream_index` keys the ISO's random streams: fixed for good and never
    shared, so that adding an ISO changes no other ISO's numbers. `node_name`
    names nodes in the ISO's own style. `capacity` is the ISO's capacity
    auction, None where it runs none.
    """

    stream_index: int
    geography: Geography
    model: IsoModel
    node_name: NodeStyle
    capacity: CapacityAuction | None = None

    @property
    def iso(self) -> Iso:
        """The ISO simulated."""
        return self.model.iso


@cache
def simulation(iso: Iso) -> IsoSimulation:
    """The simulator's model of `iso`, as its package declares it (imported on first use)."""
    return declaration(iso).simulation()


def default_node_counts() -> dict[Iso, int]:
    """Real-scale node counts per ISO (about 18,500 in total), hubs and zones excluded."""
    return {iso: simulation(iso).geography.default_nodes for iso in Iso}
