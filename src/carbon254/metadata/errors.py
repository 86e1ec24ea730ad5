"""What the metadata functions refuse: each error carries a message fit to show a user as is."""

from __future__ import annotations

from collections.abc import Sequence


class MetadataError(Exception):
    """Base of the metadata errors; `message` names the offending value."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TenantExists(MetadataError):
    """A tenant of that name already exists (the service answers 409)."""


class UnknownTenant(MetadataError):
    """No tenant of that name (404)."""


class UnknownKey(MetadataError):
    """No API key with that id, or a plaintext key that does not verify (404)."""


class InvalidEntitlement(MetadataError):
    """An entitlement or tenant name that is not valid (422); `field` names it, e.g. `isos`."""

    def __init__(self, field: str, message: str, suggestions: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.field = field
        self.suggestions = list(suggestions)
