"""The fixed list of files the add-in serves under `/excel/`, with their media types.

Only these names are served (no directory listing, no path other than a
plain file name), so nothing else in the package can be reached through
`/excel/`. Icons are drawn by `icons.py`; the rest are files in `static/`.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

from carbon254.excel.icons import ICON_SIZES, icon_png

_JS = "text/javascript; charset=utf-8"

# name -> media type of the files in static/.
STATIC_MEDIA_TYPES: dict[str, str] = {
    "c254.js": _JS,
    "functions.js": _JS,
    "functions.json": "application/json",
    "declarations.js": _JS,
    "taskpane.html": "text/html; charset=utf-8",
    "taskpane.js": _JS,
    "taskpane.css": "text/css; charset=utf-8",
}
ICON_NAMES: dict[str, int] = {f"icon-{size}.png": size for size in ICON_SIZES}

# Every servable name -> media type.
ASSET_MEDIA_TYPES: dict[str, str] = {**STATIC_MEDIA_TYPES, **dict.fromkeys(ICON_NAMES, "image/png")}


class UnknownAsset(KeyError):
    """A name that is not one of the add-in's files."""


@lru_cache(maxsize=len(ASSET_MEDIA_TYPES))
def read_asset(name: str) -> bytes:
    """The bytes of the add-in file `name` (a key of `ASSET_MEDIA_TYPES`); `UnknownAsset` otherwise."""
    if name in ICON_NAMES:
        return icon_png(ICON_NAMES[name])
    if name not in STATIC_MEDIA_TYPES:
        raise UnknownAsset(name)
    return files("carbon254.excel").joinpath("static", name).read_bytes()
