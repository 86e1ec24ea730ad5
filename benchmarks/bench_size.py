"""(d) Store size on disk per million rows.

The figure is the bytes of the Parquet files the store is made of (every LMP
file the manifest names, plus the location catalog) divided by the rows they
hold. Files still on disk but no longer named by the manifest (replaced by
compaction and waiting out their grace period, or left by a killed writer) are
reported separately. The baseline is the same rows as an uncompressed Arrow
IPC stream (all twelve columns, counted without writing it to disk).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from dataset import Context, Scale
from measure import Outcome, Result, Target, human_bytes, log

NAME = "size"
TARGET_MB_PER_M_ROWS = 12.0
MB = 1e6  # decimal megabytes


def _ipc_bytes(paths: list[str], schema: pa.Schema) -> int:
    """Size of the files' rows as one uncompressed Arrow IPC stream."""
    sink = pa.MockOutputStream()
    with ipc.new_stream(sink, schema) as writer:
        for path in paths:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=65_536):
                writer.write_batch(batch)
    return int(sink.size())


def _scale_rows(ctx: Context, scale: Scale, out: Outcome) -> None:
    built = ctx.store(scale)
    manifest = built.manifest()
    entries = built.live_files()
    rows = sum(f.rows for f in entries)
    if rows != built.rows:
        raise RuntimeError(f"manifest names {rows:,} rows, store was built with {built.rows:,}")
    live = {built.root / f.path for f in entries}
    catalog = built.root / manifest.catalog if manifest.catalog else None
    live_bytes = sum(p.stat().st_size for p in live)
    catalog_bytes = catalog.stat().st_size if catalog else 0
    on_disk = sum(p.stat().st_size for p in built.root.rglob("*.parquet"))
    log(f"size {scale.slug}: measuring {rows:,} rows as uncompressed Arrow IPC")
    schema = pq.read_schema(next(iter(live)))
    ipc_bytes = _ipc_bytes(sorted(str(p) for p in live), schema)
    per_m = rows / 1e6
    out.results.append(
        Result(
            NAME,
            f"(d) size on disk, {scale.title}",
            "MB per M rows",
            (live_bytes + catalog_bytes) / MB / per_m,
            "MB/M rows",
            "the same rows as uncompressed Arrow IPC",
            ipc_bytes / MB / per_m,
            "× the baseline's size",
            target=Target("<=", TARGET_MB_PER_M_ROWS),
            scale=scale.slug,
        )
    )
    extra = on_disk - live_bytes - catalog_bytes
    out.note(
        NAME,
        scale.slug,
        f"size {scale.slug}: {len(entries)} data files, {human_bytes(live_bytes)} "
        f"+ catalog {human_bytes(catalog_bytes)} for {rows:,} rows"
        + (
            f"; another {human_bytes(extra)} of Parquet files on disk are not in the manifest "
            "(retired by compaction or orphaned), not counted above"
            if extra
            else ""
        )
        + ".",
    )


def run(ctx: Context) -> Outcome:
    """Bytes per million rows at every scale of the run."""
    out = Outcome()
    for scale in ctx.scales:
        _scale_rows(ctx, scale, out)
    return out
