"""Synthetic node names in each ISO's own style.

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

from carbon254.isos import Iso

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

# MISO names nodes after the local balancing authority; several share a zone.
_MISO_LBAS: dict[str, tuple[str, ...]] = {
    "LRZ1": ("NSP", "OTP", "MP", "GRE", "MDU", "SMP"),
    "LRZ2": ("WEC", "WPS", "ALTE", "MGE", "UPPC"),
    "LRZ3": ("ALTW", "MEC", "MPW"),
    "LRZ4": ("AMIL", "CWLP", "SIPC"),
    "LRZ5": ("AMMO", "CWLD"),
    "LRZ6": ("CIN", "IPL", "SIGE", "NIPS", "BREC", "HE"),
    "LRZ7": ("CONS", "DECO"),
    "LRZ8": ("EAI",),
    "LRZ9": ("CLEC", "LAGN", "EES", "LAFA"),
    "LRZ10": ("EMBA",),
}

_MASK = (1 << 64) - 1
_REDRAWS = 16


def _mix(value: int) -> int:
    """SplitMix64 finaliser: a cheap, well-spread hash of an integer."""
    z = (value + 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


class _Digits:
    """Successive small choices drawn from one 64-bit hash."""

    def __init__(self, value: int) -> None:
        self._h = value

    def pick(self, n: int) -> int:
        out = self._h % n
        self._h //= n
        return out


def _stem(d: _Digits, width: int) -> str:
    return (_HEADS[d.pick(len(_HEADS))] + _TAILS[d.pick(len(_TAILS))])[:width]


def _ercot(d: _Digits, area: str) -> str:
    kind = d.pick(10)
    if kind == 0:
        return f"{_stem(d, 6)}WIND_RN" if area in ("WEST", "PANHANDLE", "SOUTH") else f"{_stem(d, 8)}_RN"
    if kind == 1:
        return f"{_stem(d, 6)}SLR_RN"
    if kind == 2:
        return f"{_stem(d, 6)}_ESS_RN"
    if kind in (3, 4):
        return f"{_stem(d, 8)}_ALL"
    if kind == 5:
        return f"{_stem(d, 8)}_UNIT{1 + d.pick(4)}"
    if kind == 6:
        return f"{_stem(d, 8)}_CC{1 + d.pick(3)}"
    return f"{_stem(d, 8)}_RN"


def _caiso(d: _Digits, area: str) -> str:
    if d.pick(5) == 0:
        return f"{_stem(d, 7)}{1 + d.pick(4)}_{1 + d.pick(7)}_B{1 + d.pick(3)}"
    return f"{_stem(d, 8)}_{1 + d.pick(7)}_N{1 + d.pick(30):03d}"


def _pjm(d: _Digits, area: str, index: int) -> str:
    if d.pick(4) == 0:
        # Bus numbers: an odd multiplier keeps them distinct for every index.
        return str(1_000_003 + (index * 7_919) % 89_000_000)
    kv = ("13", "18", "20", "34.5", "69", "115", "138", "230", "345", "500")[d.pick(10)]
    equipment = ("UNIT", "T", "LD", "GEN", "CT", "TR")[d.pick(6)]
    return f"{_stem(d, 8)} {kv} KV {equipment}{1 + d.pick(9)}"


def _miso(d: _Digits, area: str) -> str:
    lbas = _MISO_LBAS.get(area, ("MISO",))
    return f"{lbas[d.pick(len(lbas))]}.{_stem(d, 9)}{1 + d.pick(9)}"


def _spp(d: _Digits, area: str) -> str:
    kind = d.pick(3)
    if kind == 0:
        return f"{area}_{_stem(d, 8)}_UNIT{1 + d.pick(4)}"
    if kind == 1:
        return f"{area}_{_stem(d, 8)}{1 + d.pick(9)}"
    return f"{area}_{_stem(d, 9)}"


def _nyiso(d: _Digits, area: str) -> str:
    if d.pick(3) == 0:
        return f"{_stem(d, 10)}___{1 + d.pick(9)}"
    kind = ("GT", "ST", "CC", "CT", "HY", "WT", "IC")[d.pick(7)]
    return f"{_stem(d, 10)} {kind} {1 + d.pick(12):02d}"


def _isone(d: _Digits, area: str) -> str:
    stem = _stem(d, 8)
    kv = ("13.8", "23", "34.5", "69", "115", "345")[d.pick(6)]
    if d.pick(10) < 3:
        return f"LD.{stem:<8}{kv}"
    return f"UN.{stem:<8}{kv} {stem[:3]}{1 + d.pick(9)}"


_STYLE: dict[Iso, Callable[[_Digits, str, int], str]] = {
    Iso.ERCOT: lambda d, area, i: _ercot(d, area),
    Iso.CAISO: lambda d, area, i: _caiso(d, area),
    Iso.PJM: _pjm,
    Iso.MISO: lambda d, area, i: _miso(d, area),
    Iso.SPP: lambda d, area, i: _spp(d, area),
    Iso.NYISO: lambda d, area, i: _nyiso(d, area),
    Iso.ISONE: lambda d, area, i: _isone(d, area),
}


def node_names(iso: Iso, iso_index: int, areas: Sequence[str], reserved: Sequence[str] = ()) -> list[str]:
    """Unique ISO-styled names for nodes 0..len(areas)-1, given each node's area code.

    `reserved` are names already taken (hubs, zones). Earlier nodes never
    change when more nodes are added.
    """
    style = _STYLE[iso]
    taken = set(reserved)
    names: list[str] = []
    for i, area in enumerate(areas):
        # On a clash, draw again from a salted hash to keep the ISO's style; a
        # numeric suffix is the last resort.
        for attempt in range(_REDRAWS):
            name = style(_Digits(_mix((attempt << 56) | (iso_index << 40) | i)), area, i)
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
