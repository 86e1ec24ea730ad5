"""Scenarios: named, ordered transformations of curve sets (shifts, gas, load, solar, replays, paths)."""
