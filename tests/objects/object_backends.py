"""What the object store tests know about a backend beyond the `ObjectStore` interface."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from carbon254.objects import ObjectStore


@dataclass
class Backend:
    """A store under test and what only its backend can tell about it."""

    store: ObjectStore
    # Half-written leftovers a failed write could leave: temporary files, or open multipart uploads.
    leftovers: Callable[[], list[str]]
    # How many parts the stored object was uploaded in (None where the backend has no parts).
    parts: Callable[[str], int | None]
