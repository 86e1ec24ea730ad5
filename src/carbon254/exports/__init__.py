"""The download center's export: any dataset query written to CSV, Parquet or XLSX as a job.

Importing this package registers the `export` job kind in the process-wide
registry (`carbon254.jobs.registry`), so a worker that imports it runs
exports. The writers stream Arrow batches into a file in bounded memory.
"""

from __future__ import annotations

from carbon254.exports.kind import EXPORT, ExportPart, ExportTask
from carbon254.exports.request import ExportRequest, QuerySlice
from carbon254.exports.writers import EXCEL_MAX_ROWS, ExportFormat, ExportWriter, open_writer

__all__ = [
    "EXCEL_MAX_ROWS",
    "EXPORT",
    "ExportFormat",
    "ExportPart",
    "ExportRequest",
    "ExportTask",
    "ExportWriter",
    "QuerySlice",
    "open_writer",
]
