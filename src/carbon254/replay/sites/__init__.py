"""Each ISO's URL layout for the replay server: `routes(roots) -> list[Route]` per ISO module.

`roots` are directories searched in order for the files to serve (the real
ISO files first, then hand-made fixtures).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from carbon254.isos import Iso
from carbon254.replay.server import Route


def routes_for(iso: Iso, roots: list[Path]) -> list[Route]:
    """The replay routes imitating `iso`'s servers, serving files found under `roots`."""
    module = importlib.import_module(f"carbon254.replay.sites.{iso.value.lower()}")
    routes: list[Route] = module.routes(roots)
    return routes


def find_file(roots: list[Path], name: str) -> Path | None:
    """The first file called `name` under any of `roots` (searched recursively), if any."""
    if "/" in name or "\\" in name or name.startswith("."):
        return None
    for root in roots:
        for path in sorted(root.rglob(name)):
            if path.is_file():
                return path
    return None
