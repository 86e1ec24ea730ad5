"""Synthetic node names in each ISO's own style (each ISO's style is declared in its package).

Names are invented (no real plant or bus is implied) but look like what each ISO
publishes, so screens, filters and demos behave as they would on real data:
ERCOT `BRIDGEVL_RN` / `OAKCREEK_ALL`, CAISO `CEDARTON_3_N014`, PJM
`FAIRFORD 138 KV T2`, MISO `NSP.PINEBROOK2`, SPP `OKGE_REDMESA_UNIT1`, NYISO
`KINGDALE GT 03`, ISO-NE `UN.ROCKPORT345 ROC2`.

A node's name depends only on the ISO, its index and its area, never on the
simulation seed or on how many nodes are simulated, so the first 200 nodes of a
real-scale run are the same 200 nodes as a 200-node demo.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

_HEADS = (
    "AL",
    "AMB",
    "ASH",
    "BAR",
    "BEL",
    "BIRCH",
    "BLU",
    "BRAD",
    "BRI",
    "BROOK",
    "CAM",
    "CED",
    "CHES",
    "CLAR",
    "COL",
    "CRAN",
    "DAL",
    "DEER",
    "EAG",
    "ELM",
    "FAIR",
    "FOX",
    "GLEN",
    "GRAN",
    "HAR",
    "HAW",
    "HOL",
    "IRON",
    "KEN",
    "KING",
    "LAK",
    "LIN",
    "MAP",
    "MAR",
    "MID",
    "MILL",
    "MON",
    "NOR",
    "OAK",
    "PAL",
    "PINE",
    "PLE",
    "RED",
    "RICH",
    "RIV",
    "ROCK",
    "ROS",
    "SAL",
    "SAND",
    "SHER",
    "SPR",
    "STON",
    "SUN",
    "TAY",
    "TIM",
    "VAL",
    "WAL",
    "WEST",
    "WIL",
    "WIN",
    "WOOD",
    "YORK",
    "ABER",
    "CROS",
)
_TAILS = (
    "TON",
    "DALE",
    "FORD",
    "VILLE",
    "BURG",
    "WOOD",
    "FIELD",
    "CREEK",
    "RIDGE",
    "LAND",
    "MONT",
    "PORT",
    "VIEW",
    "SIDE",
    "HILL",
    "BROOK",
    "LAKE",
    "STON",
    "WELL",
    "MOOR",
    "BEND",
    "GATE",
    "HAVEN",
    "MESA",
)

_MASK = (1 << 64) - 1
_REDRAWS = 16


def _mix(value: int) -> int:
    """SplitMix64 finaliser: a cheap, well-spread hash of an integer."""
    z = (value + 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


class Digits:
    """Successive small choices drawn from one 64-bit hash."""

    def __init__(self, value: int) -> None:
        self._h = value

    def pick(self, n: int) -> int:
        """The next choice among `n` (0 to n-1)."""
        out = self._h % n
        self._h //= n
        return out


def stem(d: Digits, width: int) -> str:
    """An invented place-like word (`OAKCREEK`, `FAIRFORD`) of at most `width` letters."""
    return (_HEADS[d.pick(len(_HEADS))] + _TAILS[d.pick(len(_TAILS))])[:width]


def node_names(
    style: Callable[[Digits, str, int], str],
    iso_index: int,
    areas: Sequence[str],
    reserved: Sequence[str] = (),
) -> list[str]:
    """Unique names in an ISO's `style` for nodes 0..len(areas)-1, given each node's area code.

    `iso_index` keys the names' hashes. `reserved` are names already taken
    (hubs, zones). Earlier nodes never change when more nodes are added.
    """
    taken = set(reserved)
    names: list[str] = []
    for i, area in enumerate(areas):
        # On a clash, draw again from a salted hash to keep the ISO's style; a
        # numeric suffix is the last resort.
        for attempt in range(_REDRAWS):
            name = style(Digits(_mix((attempt << 56) | (iso_index << 40) | i)), area, i)
            if name not in taken:
                break
        k = 2
        base = name
        while name in taken:
            name = f"{base}{k}"
            k += 1
        taken.add(name)
        names.append(name)
    return names
