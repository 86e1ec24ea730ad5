"""`carbon254 export --server URL`: the same export, run as a job by a 254Carbon service.

The options are sent as the service's export request through the Python SDK
(`client.export`), so the service checks every name and window with the
dataset route's errors and its tenant's entitlements and limits. The SDK
draws the progress bar while the job runs and downloads the file through the
signed link into a temporary file renamed into place, so a failed export
leaves nothing at `--output`. Ctrl+C cancels the job on the service.
"""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape

from carbon254.application.datasets import SHAPES
from carbon254.cli.console import console, fail
from carbon254.client import Client
from carbon254.client.errors import Carbon254Error, JobCancelled, JobFailed, NotFound
from carbon254.exports.writers import ExportFormat
from carbon254.schema import Dataset


def export_remote(
    server: str,
    api_key: str | None,
    output: Path,
    fmt: ExportFormat,
    *,
    dataset: Dataset,
    iso: str,
    start: str,
    end: str,
    market: str | None,
    locations: str | None,
    tz: str | None,
    resample: str | None,
    block: str | None,
    as_of: str | None,
) -> None:
    """Submit the export to the service at `server`, follow it with a progress bar and download its file.

    `api_key` falls back to the SDK's own sources (`CARBON254_API_KEY`, its
    config file). Exits with the service's message when it refuses the
    export or the job fails.
    """
    shape = SHAPES[dataset]
    named: dict[str, str] = {}
    if market is not None and shape.market_parameter is not None:
        named[shape.market_parameter] = market
    if locations is not None and shape.names_parameter is not None:
        named[shape.names_parameter] = locations
    try:
        with Client(base_url=server, api_key=api_key) as client:
            job = client.export(
                dataset=dataset.value,
                iso=iso,
                start=start,
                end=end,
                format=fmt,
                tz=tz,
                resample=resample,
                block=block,
                as_of=as_of,
                **named,
            )
            console.print(f"Job {job.id} on {escape(server)}: exporting to {escape(str(output))}")
            try:
                info = job.wait(progress=True)
            except KeyboardInterrupt:
                job.cancel()
                fail(f"cancelled job {job.id}; resuming it on the service queues it again")
            job.download(output)
    except NotFound as exc:
        fail(exc.message, f"Did you mean: {', '.join(exc.suggestions)}?" if exc.suggestions else None)
    except (JobFailed, JobCancelled) as exc:
        fail(exc.message)
    except Carbon254Error as exc:
        fail(f"{server}: {exc.message}")
    summary = info.result.summary if info.result is not None else {}
    rows, size = summary.get("rows", 0), summary.get("bytes", 0)
    console.print(f"Job {job.id}: wrote {rows:,} rows ({size:,} bytes) to {escape(str(output))}")
