"""README tables generated from the code: the block between two marker comments, read or replaced.

`settings_doc` (the settings table) and `markets_doc` (markets per ISO and
dataset) render their tables from the declarations; a test of each compares
the README's block with the rendering, so the documentation cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Markers:
    """The HTML comments opening and closing a generated block in a Markdown file."""

    start: str
    end: str

    def block(self, text: str) -> str:
        """The block between the markers of `text`; ValueError naming them if they are missing."""
        try:
            start = text.index(self.start) + len(self.start)
            end = text.index(self.end, start)
        except ValueError:
            raise ValueError(f"the README has no {self.start!r} ... {self.end!r} block") from None
        return text[start:end].strip("\n") + "\n"

    def replaced(self, text: str, block: str) -> str:
        """`text` with the block between the markers replaced by `block`."""
        start = text.index(self.start) + len(self.start)
        end = text.index(self.end, start)
        return f"{text[:start]}\n{block}{text[end:]}"
