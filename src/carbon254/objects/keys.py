"""What an object key and a byte range may be, the same for every backend.

Keys are checked before they reach a backend, so a key that would escape the
store's directory (`../x`) or mean different objects on different backends
(`a//b`, `/a`) is refused everywhere with the same message.
"""

from __future__ import annotations


def check_key(key: str) -> None:
    """Raise ValueError unless `key` is non-empty `/`-separated parts, none empty, `.` or `..`."""
    if not key:
        raise ValueError("object key is empty")
    if "\\" in key or "\x00" in key:
        raise ValueError(f"object key {key!r}: backslashes and NUL are not allowed")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise ValueError(f"object key {key!r}: parts may not be empty, '.' or '..' (nor start with '/')")


def check_range(start: int, end: int | None) -> None:
    """Raise ValueError unless `0 <= start` and (`end` is None or `start <= end`), in bytes."""
    if start < 0:
        raise ValueError(f"range start must be at least 0, not {start}")
    if end is not None and end < start:
        raise ValueError(f"range end {end} is before its start {start}")
