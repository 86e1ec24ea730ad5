"""Executors: where a job's tasks run, chosen by `CARBON254_COMPUTE` and nothing else.

`open_executor("local://")` gives this machine's process pool;
`open_executor("dask://host:port")` a client of a Dask distributed scheduler.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from carbon254.compute.base import Executor, TaskFailure, TaskOutcome
from carbon254.compute.local import LocalExecutor

SCHEMES = ("local://", "dask://host:port")


class InvalidComputeUrl(ValueError):
    """A compute URL that is malformed or names no known executor; the message lists the supported ones."""


def check_compute_url(url: str) -> str:
    """`url` stripped, once it names a known executor in a valid form; `InvalidComputeUrl` otherwise."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme == "local":
        if parts.netloc or parts.path:
            raise InvalidComputeUrl(f"invalid compute URL {url!r}: use `local://` or `local://?processes=N`")
        _local_processes(text)
        return text
    if parts.scheme == "dask":
        try:
            port = parts.port
        except ValueError:
            port = None
        if not parts.hostname or port is None:
            raise InvalidComputeUrl(f"invalid compute URL {url!r}: a Dask scheduler is `dask://host:port`")
        return text
    raise InvalidComputeUrl(f"unknown compute URL {url!r}; supported: {', '.join(SCHEMES)}")


def _local_processes(url: str) -> int | None:
    query = parse_qs(urlsplit(url).query)
    unknown = sorted(set(query) - {"processes"})
    if unknown:
        raise InvalidComputeUrl(
            f"invalid compute URL {url!r}: unknown option {unknown[0]!r} (known: processes)"
        )
    if "processes" not in query:
        return None
    value = query["processes"][-1]
    if not value.isdigit() or int(value) < 1:
        raise InvalidComputeUrl(f"invalid compute URL {url!r}: processes must be a positive integer")
    return int(value)


def open_executor(url: str) -> Executor:
    """The executor `url` names: `local://` (optionally `?processes=N`) or `dask://host:port`.

    The Dask executor is imported only when asked for, so a local-only
    process never loads Dask.
    """
    text = check_compute_url(url)
    if text.startswith("local:"):
        return LocalExecutor(_local_processes(text))
    from carbon254.compute.dask import DaskExecutor  # type: ignore[import-not-found,unused-ignore]

    executor: Executor = DaskExecutor(text)
    return executor


__all__ = [
    "Executor",
    "InvalidComputeUrl",
    "LocalExecutor",
    "TaskFailure",
    "TaskOutcome",
    "check_compute_url",
    "open_executor",
]
