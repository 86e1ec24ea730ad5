"""Where the tests find the real ISO files and price histories (never copied into the repository).

`CARBON254_SHARED_DATA` when set; else `shared/data` beside the repository;
else beside the repository this checkout was cloned from, when that is a
directory on this machine (a clean clone made elsewhere for a CI run still
finds the files). Tests that need a file skip, naming it, when it is absent.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _origin() -> Path | None:
    """The local directory `origin` points at, if it is one."""
    try:
        url = subprocess.run(
            ["git", "-C", str(REPO), "config", "--get", "remote.origin.url"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        return None
    path = Path(url.removeprefix("file://")) if url else None
    return path if path is not None and path.is_dir() else None


def _shared_data() -> Path:
    configured = os.environ.get("CARBON254_SHARED_DATA")
    if configured:
        return Path(configured)
    beside = REPO.parent / "shared" / "data"
    origin = _origin()
    if not beside.is_dir() and origin is not None and (origin.parent / "shared" / "data").is_dir():
        return origin.parent / "shared" / "data"
    return beside


SHARED_DATA = _shared_data()
