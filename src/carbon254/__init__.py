"""254Carbon: power-market intelligence for North American wholesale electricity."""

__version__ = "0.1.0"
