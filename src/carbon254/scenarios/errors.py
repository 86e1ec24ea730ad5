"""Errors of the scenario engine: each a ValueError that names the step, hub or sweep at fault."""

from __future__ import annotations


class ScenarioError(ValueError):
    """A scenario that cannot be applied to the curves it was given (names the step and hub)."""


class SweepTooLarge(ScenarioError):
    """A sweep grid with more points than the engine expands."""
