"""Errors of the risk domain: each a ValueError whose message names the field, position or factor at fault."""

from __future__ import annotations

from dataclasses import dataclass


class RiskError(ValueError):
    """Input the risk engine cannot use (a bad confidence, horizon, window, series); the message says why."""


class PositionError(RiskError):
    """A position field that is out of range or inconsistent; `field` names it (`mw`, `start`, ...)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class PositionProblem:
    """One bad field of a position file: its 1-based line (the header is line 1), the column, why."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.message}"


class PositionFileError(RiskError):
    """A position file with bad lines; `problems` lists every one of them, not only the first."""

    def __init__(self, problems: list[PositionProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class EmptyPortfolio(RiskError):
    """A portfolio (or a position file) with no positions: there is nothing to measure."""


class UnknownFactor(RiskError):
    """A position or a shock that maps to no risk factor (an unknown hub or node, month or block)."""


class MissingHistory(RiskError):
    """Factor history that cannot support the measure: absent, NaN on a date, or too few days."""


class CovarianceError(RiskError):
    """A covariance matrix that is not symmetric positive definite on the exposed factors."""
