"""Comma-separated name options; the names themselves resolve with `carbon254.names`."""

from __future__ import annotations


class BadList(ValueError):
    """A comma-separated option that lists no name."""


def split_list(option: str, text: str | None) -> list[str] | None:
    """A comma-separated option as names, blanks dropped, repeats removed in order; None when absent."""
    if text is None:
        return None
    names = list(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    if not names:
        raise BadList(f"{option} lists no name; omit it to mean all")
    return names
