"""The download center's export: any dataset query written to CSV, Parquet or XLSX.

The writers stream Arrow batches into a file in bounded memory.
"""

from __future__ import annotations

from carbon254.exports.writers import EXCEL_MAX_ROWS, ExportFormat, ExportWriter, open_writer

__all__ = ["EXCEL_MAX_ROWS", "ExportFormat", "ExportWriter", "open_writer"]
