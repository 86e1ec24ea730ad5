"""The add-in's icons, drawn as PNG bytes at first use (no binary files in the repository).

A teal rounded tile with three white bars (a price chart), at the sizes
Office asks for: 16, 32 and 80 px on the ribbon, 32 and 64 px in the
add-in list (`IconUrl`, `HighResolutionIconUrl`).
"""

from __future__ import annotations

import struct
import zlib
from functools import lru_cache

ICON_SIZES: tuple[int, ...] = (16, 32, 64, 80)

_TILE = (0, 122, 116, 255)  # RGBA
_BAR = (255, 255, 255, 255)
_CLEAR = (0, 0, 0, 0)
# Each bar: (left, right, top) as fractions of the tile; every bar ends at the same baseline.
_BARS = ((0.20, 0.34, 0.55), (0.43, 0.57, 0.35), (0.66, 0.80, 0.20))
_BASELINE = 0.80


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _pixel(x: int, y: int, size: int) -> tuple[int, int, int, int]:
    u, v = (x + 0.5) / size, (y + 0.5) / size
    radius = 0.18
    # Rounded corners: clear outside the quarter circles at each corner.
    cx = min(max(u, radius), 1 - radius)
    cy = min(max(v, radius), 1 - radius)
    if (u - cx) ** 2 + (v - cy) ** 2 > radius**2:
        return _CLEAR
    for left, right, top in _BARS:
        if left <= u <= right and top <= v <= _BASELINE:
            return _BAR
    return _TILE


@lru_cache(maxsize=len(ICON_SIZES))
def icon_png(size: int) -> bytes:
    """The icon as an RGBA PNG of `size` x `size` pixels; ValueError for a size not in `ICON_SIZES`."""
    if size not in ICON_SIZES:
        raise ValueError(f"no icon of {size} px; sizes are {', '.join(map(str, ICON_SIZES))}")
    rows = b"".join(b"\x00" + b"".join(bytes(_pixel(x, y, size)) for x in range(size)) for y in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows, 9))
        + _chunk(b"IEND", b"")
    )
