"""Rich progress bars: over rows, for loads that report through `demo.LoadProgress`; over a job's tasks."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text


def _count(n: float) -> str:
    return f"{n / 1e6:.1f}M" if n >= 1e6 else f"{n:,.0f}"


class RowsColumn(ProgressColumn):
    """`12.3M/31.8M rows` (exact below a million)."""

    def render(self, task: Task) -> Text:
        total = _count(task.total) if task.total is not None else "?"
        return Text(f"{_count(task.completed)}/{total} rows", style="progress.download")


class RowRateColumn(ProgressColumn):
    """Rows stored per second, in millions once large."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if speed is None:
            return Text("", style="progress.data.speed")
        return Text(f"{_count(speed)} rows/s", style="progress.data.speed")


class _Bars:
    """A Rich `Progress` shown while the context is open."""

    _progress: Progress

    def __enter__(self) -> Self:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()


class RowProgress(_Bars):
    """A context manager showing one bar per `begin` call, advanced by stored rows."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(bar_width=24),
            RowsColumn(),
            RowRateColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        self._task: TaskID | None = None

    def begin(self, description: str, total_rows: int) -> None:
        """Start a new bar of `total_rows` rows."""
        self._task = self._progress.add_task(description, total=total_rows)

    def advance(self, rows: int) -> None:
        """Move the current bar on by `rows` rows."""
        if self._task is not None:
            self._progress.advance(self._task, rows)


class StepsColumn(ProgressColumn):
    """`3/12` (`?` for the total while the job is being planned)."""

    def render(self, task: Task) -> Text:
        total = f"{task.total:,.0f}" if task.total else "?"
        return Text(f"{task.completed:,.0f}/{total}", style="progress.download")


class JobProgressBar(_Bars):
    """A context manager showing one bar for a job: its done/total units and its message."""

    def __init__(self, console: Console, description: str) -> None:
        self._description = description
        self._progress = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(bar_width=24),
            StepsColumn(),
            TextColumn("{task.fields[message]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task = self._progress.add_task(description, total=None, message="queued")

    def show(self, done: int, total: int, message: str) -> None:
        """Show `done` of `total` (0: not known yet) and the job's `message`."""
        self._progress.update(
            self._task, completed=done, total=total if total > 0 else None, message=escape(message)
        )
