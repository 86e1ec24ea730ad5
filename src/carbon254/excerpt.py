"""How an error message shows a value the user sent: quoted, escaped, and never more than a short prefix.

Every surface (REST, GraphQL, the stream, the CLI) and every domain
message that names a bad value goes through `excerpt`, so a 256-character
time zone or a megabyte of `locations` comes back as its first few
characters and its length, never whole.
"""

from __future__ import annotations

import re

# Enough to recognise a name (the longest IANA zone is 32 characters).
EXCERPT_CHARS = 40


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """`value` as a quoted, escaped literal (`repr` of its text) of at most `limit` characters of it.

    A longer value shows its first `limit` characters, then `...` and its
    length in characters, e.g. `'AAAA...' (256 characters)`. Control
    characters and quotes are escaped as `repr` escapes them, so the excerpt
    is always one printable line.
    """
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text):,} characters)"


_QUOTED = re.compile(r"'([^'\n]*)'|\"([^\"\n]*)\"")


def shorten_quoted(message: str, limit: int = EXCERPT_CHARS) -> str:
    """`message` with each quoted run ('...' or "...") over `limit` characters cut to its first `limit`.

    For messages a library wrote (a GraphQL parser quoting the token it
    stumbled on, say), whose values cannot go through `excerpt` at the source.
    """

    def shortened(match: re.Match[str]) -> str:
        quote = match.group(0)[0]
        inner = match.group(1) if quote == "'" else match.group(2)
        if len(inner) <= limit:
            return match.group(0)
        return f"{quote}{inner[:limit]}{quote}... ({len(inner):,} characters)"

    return _QUOTED.sub(shortened, message)
