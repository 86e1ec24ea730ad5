"""Which connector and report handle an ISO, a download target, or a native file.

A lookup over the ISO declarations (`carbon254.isos`): each ISO's package
holds its reports, download targets and connector, imported on first use so
that a command touching one ISO does not import all seven.
"""

from __future__ import annotations

import io
import zipfile
from typing import TYPE_CHECKING

from carbon254.isos import Iso, declaration
from carbon254.markets.connector import Connector, DownloadTarget
from carbon254.markets.report import Report
from carbon254.schema import Dataset, spec

if TYPE_CHECKING:
    from carbon254.config import Settings

_HEAD_BYTES = 16_384


class UnknownReport(ValueError):
    """A native file whose report cannot be told from its name or header."""


class NoTarget(ValueError):
    """A (dataset, market) pair an ISO's connector cannot download."""


def reports_for(iso: Iso) -> tuple[Report, ...]:
    """Every report layout the ISO's connector parses."""
    return declaration(iso).reports()


def connector_for(iso: Iso, settings: Settings) -> Connector:
    """A download connector of an ISO, configured by `settings` (its `CARBON254_<ISO>_*` fields)."""
    return declaration(iso).connector(settings)


def published_markets(iso: Iso) -> dict[Dataset, tuple[str | None, ...]]:
    """Every dataset the ISO's connector downloads or parses, with its markets (None: no market column)."""
    found: dict[Dataset, set[str | None]] = {}
    pairs = [(t.dataset, t.market) for t in declaration(iso).targets()]
    pairs += [(r.dataset, m) for r in reports_for(iso) for m in r.markets]
    for dataset, market in pairs:
        found.setdefault(dataset, set()).add(market if spec(dataset).market_column else None)
    return {d: tuple(sorted(m, key=str)) for d, m in found.items()}


def target_for(iso: Iso, dataset: Dataset, market: str) -> DownloadTarget:
    """The download target for (dataset, market), or `NoTarget` listing what the ISO offers."""
    targets = declaration(iso).targets()
    for t in targets:
        if t.dataset is dataset and t.market == market:
            return t
    offered = ", ".join(f"{t.dataset.value}/{t.market}" for t in targets)
    raise NoTarget(f"{iso.value} has no download for {dataset.value}/{market}; it offers: {offered}")


def _texts(name: str, data: bytes) -> list[tuple[str, str]]:
    """(name, first bytes as text) of the file, or of each member when it is a zip archive."""
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                out = []
                for info in zf.infolist()[:4]:
                    with zf.open(info) as fh:
                        out.append((info.filename, fh.read(_HEAD_BYTES).decode("utf-8", "replace")))
                return [(name, ""), *out]
        except (zipfile.BadZipFile, EOFError, OSError):
            return [(name, "")]
    return [(name, data[:_HEAD_BYTES].decode("utf-8", "replace"))]


def detect_report(iso: Iso, name: str, data: bytes) -> Report:
    """The report a native file holds, from its file name (or its zip members' names), else its header.

    Raises `UnknownReport` naming the layouts tried when nothing fits, or
    the candidates when the header alone fits several (rename the file as
    the ISO names it to tell them apart).
    """
    reports = reports_for(iso)
    texts = _texts(name, data)
    for member, _ in texts:
        base = member.rsplit("/", 1)[-1]
        by_name = [r for r in reports if r.file_pattern is not None and r.file_pattern.search(base)]
        if len(by_name) == 1:
            return by_name[0]
    by_header = []
    for r in reports:
        if not r.header:
            continue
        wanted = [h.lower() for h in r.header]
        if any(all(h in text.lower() for h in wanted) for _, text in texts if text):
            by_header.append(r)
    if len(by_header) == 1:
        return by_header[0]
    if by_header:
        names = ", ".join(f"{r.name} ({r.title})" for r in by_header)
        raise UnknownReport(
            f"{name}: its header fits several {iso.value} reports ({names}); "
            "keep the file name the ISO gave it so the report can be told"
        )
    known = "; ".join(f"{r.name} ({r.title})" for r in reports)
    raise UnknownReport(f"{name}: not a {iso.value} report this platform reads; it reads: {known}")
