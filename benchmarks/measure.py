"""Measurement helpers shared by every benchmark: result rows, percentiles, progress, profiling.

A benchmark returns `Result` rows; each row carries its figure, an optional
target, and a baseline measured in the same run, so the ratio stays meaningful
on a noisy machine where absolute times drift.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / ".work"

_STARTED = time.perf_counter()
_PROFILE_DIR: Path | None = None


def log(message: str) -> None:
    """Print a progress line to stderr, prefixed with the seconds since the runner started."""
    print(f"[{time.perf_counter() - _STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True, slots=True)
class Target:
    """A pass/fail threshold: the figure must be `op` `value` (in the row's unit)."""

    op: Literal[">=", "<="]
    value: float

    def met(self, figure: float) -> bool:
        """Whether `figure` satisfies the target."""
        return figure >= self.value if self.op == ">=" else figure <= self.value


@dataclass(slots=True)
class Result:
    """One row of the report.

    `ratio` is always `figure / baseline_figure`; `ratio_meaning` says how to
    read it (e.g. "× the baseline's latency").
    """

    bench: str
    label: str
    statistic: str
    figure: float
    unit: str
    baseline: str
    baseline_figure: float
    ratio_meaning: str
    target: Target | None = None
    scale: str = ""

    @property
    def ratio(self) -> float:
        """Figure divided by the baseline's figure."""
        return self.figure / self.baseline_figure if self.baseline_figure else float("nan")

    @property
    def passed(self) -> bool | None:
        """True/False against the target; None when the row has no target."""
        return None if self.target is None else self.target.met(self.figure)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (targets as plain dicts)."""
        doc = asdict(self)
        doc["target"] = asdict(self.target) if self.target else None
        return doc

    @staticmethod
    def from_json(doc: dict[str, Any]) -> Result:
        """The inverse of `to_json`."""
        target = doc.get("target")
        return Result(**{**doc, "target": Target(**target) if target else None})


@dataclass(frozen=True, slots=True)
class Latencies:
    """Per-query wall times in seconds, summarised in milliseconds."""

    seconds: Sequence[float]

    def pct_ms(self, q: float) -> float:
        """The q-th percentile in milliseconds (NumPy's default linear interpolation)."""
        return float(np.percentile(np.asarray(self.seconds), q)) * 1e3

    @property
    def p50(self) -> float:
        """Median latency in ms."""
        return self.pct_ms(50)

    @property
    def p99(self) -> float:
        """99th-percentile latency in ms."""
        return self.pct_ms(99)

    def describe(self) -> str:
        """`p50 … / p99 … / max … ms (n=…)`."""
        worst = max(self.seconds) * 1e3
        return f"p50 {self.p50:.2f} / p99 {self.p99:.2f} / max {worst:.2f} ms (n={len(self.seconds)})"


BLOCK = 20  # queries per turn when two or more things are measured in alternation


def blocks(items: Sequence[Any], size: int = BLOCK) -> Iterator[Sequence[Any]]:
    """`items` in consecutive runs of `size`: measuring alternates by block, not by query, so each
    contender sees the same machine noise without the other evicting its caches between queries."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def latency_rows(
    *,
    bench: str,
    label: str,
    measured: Latencies,
    baseline: str,
    base: Latencies,
    scale: str,
    p99_target: float | None = None,
) -> list[Result]:
    """A p50 and a p99 row for one latency measurement against one baseline."""
    meaning = "× the baseline's latency"
    return [
        Result(bench, label, "p50", measured.p50, "ms", baseline, base.p50, meaning, scale=scale),
        Result(
            bench,
            label,
            "p99",
            measured.p99,
            "ms",
            baseline,
            base.p99,
            meaning,
            target=Target("<=", p99_target) if p99_target is not None else None,
            scale=scale,
        ),
    ]


def enable_profiling(directory: Path) -> None:
    """Make `profiled` write cProfile reports into `directory`."""
    global _PROFILE_DIR
    directory.mkdir(parents=True, exist_ok=True)
    _PROFILE_DIR = directory


def profiling_enabled() -> bool:
    """Whether `--profile` is on."""
    return _PROFILE_DIR is not None


@contextmanager
def profiled(name: str) -> Iterator[None]:
    """Profile the block with cProfile when `--profile` is on; write the top functions to a text file.

    Profiling slows the block down, so figures of a profiled run are not
    comparable; the runner says so in the report.
    """
    if _PROFILE_DIR is None:
        yield
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs()
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(25)
        path = _PROFILE_DIR / f"profile-{name}.txt"
        path.write_text(out.getvalue())
        log(f"profile of {name} written to {path.relative_to(ROOT)}")


def human_bytes(n: float) -> str:
    """Bytes with a binary unit, e.g. `152.3 MiB`."""
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    i = 0
    while abs(n) >= 1024 and i < len(units) - 1:
        n /= 1024
        i += 1
    return f"{n:.0f} B" if i == 0 else f"{n:.1f} {units[i]}"


def settle() -> None:
    """Flush dirty pages to disk before measuring, so that writeback of a store or database just
    built does not run in the middle of the timings."""
    t0 = time.perf_counter()
    os.sync()
    if (waited := time.perf_counter() - t0) > 0.5:
        log(f"waited {waited:.1f} s for pending writes to reach the disk")


DROP_CACHES = Path("/proc/sys/vm/drop_caches")


def drop_page_cache() -> bool:
    """Flush dirty pages and drop the OS page cache (needs root); False when the kernel refuses."""
    os.sync()
    try:
        with open(DROP_CACHES, "w") as fh:
            fh.write("3\n")
    except OSError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Note:
    """A short remark for the report, tied to a benchmark and scale so a later run can replace it."""

    bench: str
    scale: str
    text: str


@dataclass(slots=True)
class Outcome:
    """What one benchmark module returns: its report rows and short notes for the report."""

    results: list[Result] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    def note(self, bench: str, scale: str, text: str) -> None:
        """Add a note about `bench` at `scale`."""
        self.notes.append(Note(bench, scale, text))
