"""Each ISO's URL layout for the replay server, found through the ISO declarations.

Every ISO package has a `replay` module with `routes(roots) -> list[Route]`.
`roots` are directories searched in order for the files to serve (the real
ISO files first, then hand-made fixtures).
"""

from __future__ import annotations

from pathlib import Path

from carbon254.isos import Iso, declaration
from carbon254.replay.server import Route


def routes_for(iso: Iso, roots: list[Path]) -> list[Route]:
    """The replay routes imitating `iso`'s servers, serving files found under `roots`."""
    return declaration(iso).replay_routes(roots)


def find_file(roots: list[Path], name: str) -> Path | None:
    """The first file called `name` under any of `roots` (searched recursively), if any."""
    if "/" in name or "\\" in name or name.startswith("."):
        return None
    for root in roots:
        for path in sorted(root.rglob(name)):
            if path.is_file():
                return path
    return None
