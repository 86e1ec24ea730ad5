"""Errors of the curve domain: each names the offending label, line, field or quotes."""

from __future__ import annotations

from dataclasses import dataclass


class ContractLabelError(ValueError):
    """A contract label that matches none of the market's forms (the message lists them)."""


@dataclass(frozen=True, slots=True)
class QuoteProblem:
    """One bad field of an uploaded quote: where (`unit` "line" or "item", 1-based), which field, why."""

    line: int
    field: str
    message: str
    unit: str = "line"

    def __str__(self) -> str:
        return f"{self.unit} {self.line}, {self.field}: {self.message}"


class QuoteFileError(ValueError):
    """A quote file or upload with bad lines; `problems` lists every one of them, not only the first."""

    def __init__(self, problems: list[QuoteProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class ContradictoryQuotes(ValueError):
    """A quote whose price differs from the price the quotes already kept imply for it."""


class UndeterminedBlock(ValueError):
    """A base block whose level no quote pins down (the fit would be singular)."""
