"""Cache keys: a bounded-length digest of the parts that determine a result."""

from __future__ import annotations

import hashlib
import json

# Bump when the encoding below changes, so old entries are never read under a new meaning.
KEY_FORMAT = "carbon254-cache-key-v1"


def cache_key(*parts: str) -> str:
    """A 64-character hex key: sha256 of a canonical encoding of `parts`, in order.

    The encoding is a JSON array (with a format tag first), so part
    boundaries are unambiguous: `("a:b", "c")` and `("a", "b:c")` give
    different keys. Callers pass every input that determines the result,
    including the data version of what the result reads (see the package
    docstring); a non-str part is a programming error and raises TypeError.
    """
    if not parts:
        raise ValueError("cache_key needs at least one part")
    for part in parts:
        if not isinstance(part, str):
            raise TypeError(f"cache_key parts must be str, got {type(part).__name__}: {part!r}")
    encoded = json.dumps([KEY_FORMAT, *parts], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()
