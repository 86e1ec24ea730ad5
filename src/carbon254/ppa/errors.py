"""The one error the PPA domain raises for bad input."""

from __future__ import annotations


class PpaError(ValueError):
    """A contract, price, volume or model input the PPA valuation cannot take; the message names the field."""
