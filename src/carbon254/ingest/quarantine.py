"""Quarantine: payloads that failed to parse or validate, kept byte for byte with the reason.

Each quarantined payload is two files under `<data_dir>/quarantine/<ISO>/`:
the bytes exactly as received, and a `.error.json` beside them saying which
report, URL and error. Nothing from a quarantined payload reaches the store.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

QUARANTINE_DIR = "quarantine"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class QuarantinedPayload:
    """Where a quarantined payload was kept and why."""

    path: Path
    error_path: Path
    iso: str
    report: str
    name: str
    url: str | None
    error: str
    quarantined_at: datetime


class Quarantine:
    """The quarantine area of one data directory."""

    def __init__(self, data_dir: Path | str) -> None:
        self.root = Path(data_dir) / QUARANTINE_DIR

    def put(
        self, *, iso: str, report: str, name: str, data: bytes, error: str, url: str | None
    ) -> QuarantinedPayload:
        """Keep `data` and the reason it was refused; returns where (files are written then renamed)."""
        now = datetime.now(UTC)
        folder = self.root / iso
        folder.mkdir(parents=True, exist_ok=True)
        safe = _UNSAFE.sub("_", name.rsplit("/", 1)[-1])[:150] or "payload"
        stem = f"{now:%Y%m%dT%H%M%S%f}Z_{safe}"
        path = folder / stem
        error_path = folder / f"{stem}.error.json"
        meta = {
            "iso": iso,
            "report": report,
            "name": name,
            "url": url,
            "error": error,
            "bytes": len(data),
            "quarantined_at": now.isoformat(),
        }
        for target, content in ((path, data), (error_path, json.dumps(meta, indent=2).encode())):
            tmp = target.with_name(target.name + ".tmp")
            tmp.write_bytes(content)
            os.replace(tmp, target)
        return QuarantinedPayload(path, error_path, iso, report, name, url, error, now)

    def list(self, iso: str | None = None) -> list[QuarantinedPayload]:
        """Quarantined payloads, oldest first, optionally for one ISO."""
        if not self.root.exists():
            return []
        out = []
        folders = [self.root / iso] if iso else sorted(p for p in self.root.iterdir() if p.is_dir())
        for folder in folders:
            for error_path in sorted(folder.glob("*.error.json")):
                meta = json.loads(error_path.read_text())
                out.append(
                    QuarantinedPayload(
                        path=error_path.with_name(error_path.name.removesuffix(".error.json")),
                        error_path=error_path,
                        iso=meta["iso"],
                        report=meta["report"],
                        name=meta["name"],
                        url=meta["url"],
                        error=meta["error"],
                        quarantined_at=datetime.fromisoformat(meta["quarantined_at"]),
                    )
                )
        return sorted(out, key=lambda q: q.quarantined_at)
