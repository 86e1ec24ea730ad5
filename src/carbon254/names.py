"""Resolving names a user typed (ISOs, markets, locations) against the known ones.

One rule for every surface: an exact match first, then a case-insensitive one
when it picks exactly one name, else `UnknownName` carrying the closest known
names, which the service answers with a 404 and the CLI with "Did you mean".
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from carbon254.excerpt import excerpt
from carbon254.isos import Iso

MAX_SUGGESTIONS = 5
# Suggesting for a handful of typos is useful; difflib over a 20,000-node
# catalog for each of 2,000 unknown names is not.
MAX_NAMES_SUGGESTED_FOR = 10


class UnknownName(ValueError):
    """A well-formed name that is not known; `suggestions` are the closest known names."""

    def __init__(self, parameter: str, message: str, suggestions: Sequence[str]) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message
        self.suggestions = list(suggestions)

    def hint(self) -> str | None:
        """`Did you mean: a, b?`, or None without suggestions."""
        return f"Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else None


def close_matches(name: str, candidates: Iterable[str], n: int = MAX_SUGGESTIONS) -> list[str]:
    """Candidates that look like `name`, best first, compared case-insensitively."""
    by_folded: dict[str, str] = {}
    for c in candidates:
        by_folded.setdefault(c.casefold(), c)
    found = difflib.get_close_matches(name.casefold(), list(by_folded), n=n, cutoff=0.6)
    return [by_folded[f] for f in found]


def resolve_iso(text: str, parameter: str = "iso") -> Iso:
    """The ISO named by `text` (any case); `UnknownName` with close matches, or every ISO, otherwise."""
    name = text.strip()
    valid = [i.value for i in Iso]
    found = resolve_names(parameter, "ISO", [name], valid, suggest_all=True)
    return Iso(found[0])


def resolve_names(
    parameter: str,
    what: str,
    names: Sequence[str],
    known: Sequence[str] | pa.Array | pa.ChunkedArray,
    *,
    suggest_all: bool = False,
) -> list[str]:
    """Each of `names` as spelled in `known`, in request order without repeats.

    Raises `UnknownName` naming every unknown one (`what` says what they are,
    e.g. "ERCOT location(s)") with the closest known names; with
    `suggest_all`, every known name when none is close (for short lists).
    """
    if isinstance(known, pa.ChunkedArray):
        known_array: pa.Array = known.combine_chunks()
    elif isinstance(known, pa.Array):
        known_array = known
    else:
        known_array = pa.array(list(known), pa.string())
    # The usual request names exact catalog entries: one vectorized lookup, no
    # Python pass over a catalog that may hold 20,000 nodes.
    exact = pc.is_in(pa.array(list(names), pa.string()), value_set=known_array)
    if pc.all(exact).as_py():
        return list(dict.fromkeys(names))
    known_list: list[str] = known_array.to_pylist()
    by_folded: dict[str, list[str]] = {}
    for k in known_list:
        by_folded.setdefault(k.casefold(), []).append(k)
    known_set = set(known_list)
    resolved: list[str] = []
    unknown: list[str] = []
    for name in names:
        folded = [name] if name in known_set else by_folded.get(name.casefold(), [])
        if len(folded) == 1:
            resolved.append(folded[0])
        else:
            unknown.append(name)
    if unknown:
        suggestions: list[str] = []
        for name in unknown[:MAX_NAMES_SUGGESTED_FOR]:
            suggestions += [s for s in close_matches(name, known_list) if s not in suggestions]
        if not suggestions and suggest_all:
            suggestions = known_list
        shown = ", ".join(excerpt(u) for u in unknown[:MAX_NAMES_SUGGESTED_FOR])
        more = len(unknown) - MAX_NAMES_SUGGESTED_FOR
        tail = f" and {more} more" if more > 0 else ""
        listing = ""
        if suggest_all:
            listing = f"; expected one of {', '.join(known_list)}" if known_list else "; none yet"
        raise UnknownName(parameter, f"{parameter}: unknown {what}: {shown}{tail}{listing}", suggestions)
    return list(dict.fromkeys(resolved))
