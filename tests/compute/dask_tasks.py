"""Task functions for the Dask executor tests, importable by the cluster's worker processes.

Worker processes unpickle a task function by its module and name, so these
live in a module on the test path rather than in the test file. Tasks that
must leave a trace (how often they started, in which process) append a line
to a file in a directory the test names: appends of one short line are
atomic across processes.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def square(x: int) -> int:
    """x squared."""
    return x * x


def square_or_fail(x: int) -> int:
    """x squared, or ValueError for an odd x."""
    if x % 2:
        raise ValueError(f"odd input {x}")
    return x * x


def _record(directory: str, line: str) -> None:
    with open(os.path.join(directory, "starts.log"), "a") as log:
        log.write(line + "\n")


def starts(directory: str) -> list[tuple[int, int]]:
    """The `(pid, x)` of every task start recorded in `directory`, in order."""
    path = Path(directory) / "starts.log"
    if not path.exists():
        return []
    return [(int(pid), int(x)) for pid, x in (line.split() for line in path.read_text().splitlines())]


def slow_square(task: tuple[int, str, float]) -> int:
    """x squared after `seconds`, recording `<pid> <x>` in `directory` when it starts."""
    x, directory, seconds = task
    _record(directory, f"{os.getpid()} {x}")
    time.sleep(seconds)
    return x * x


def square_blocking_once(task: tuple[int, str, int]) -> int:
    """x squared; the first start for x == `victim` blocks (until its process is killed).

    That start also writes `victim.pid` (the worker's pid) in `directory`, so
    the test knows which worker to kill while it is surely running the task.
    Any later start of the same input (the retry on another worker) returns at once.
    """
    x, directory, victim = task
    _record(directory, f"{os.getpid()} {x}")
    if x == victim:
        try:
            marker = os.open(os.path.join(directory, "victim.pid"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return x * x
        os.write(marker, str(os.getpid()).encode())
        os.close(marker)
        time.sleep(600)
    time.sleep(0.05)
    return x * x
