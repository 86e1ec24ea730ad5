"""Control characters in what callers send, refused before any of it reaches a database.

PostgreSQL cannot store NUL in text: psycopg refuses the whole statement, so
a NUL in a tenant filter or key id would be a 500 for the caller's typo (and
an audit event that cannot be written). No name, identifier or filter value
of this API holds a C0 control character or DEL, so they are all refused.
Tab, line feed and carriage return are allowed: multi-line text (a GraphQL
query sent with GET) legitimately holds them, and PostgreSQL stores them.

The HTTP edge (`carbon254.service.ops.control_characters`) applies this to
every query parameter, path and credential header; request bodies use the
`PlainText` type, the stream protocol `first_control_character`.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def first_control_character(text: str) -> str | None:
    """The first refused control character of `text` as `U+XXXX`, or None when there is none."""
    found = CONTROL_CHARACTER.search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


def control_character_message(what: str, character: str) -> str:
    """The error message for `what` (e.g. "query parameter 'tenant'") holding `character` (`U+0000`)."""
    return f"{what} contains the control character {character}, which no value of this API may hold"


def reject_control_characters(value: str) -> str:
    """Pydantic validator: `value` unchanged, or `ValueError` if it holds a refused control character."""
    character = first_control_character(value)
    if character is not None:
        raise ValueError(f"contains the control character {character}, which no value of this API may hold")
    return value


# A string field of a request body that may reach the database (names, ids, filters).
PlainText = Annotated[str, AfterValidator(reject_control_characters)]
