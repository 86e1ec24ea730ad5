"""What every ISO connector is made of: reports, the connector protocol, transport and time tools.

Each ISO's connector lives in its package (`carbon254.isos.<iso>.reports`):
pure parsers plus a thin fetcher. A parser is `bytes -> pyarrow.Table` in a
canonical schema (`carbon254.schema`) with no I/O, tested on real ISO files.
A fetcher turns (dataset, market, day) into the HTTP calls that ISO needs and
yields the raw payloads; the ingest job (`carbon254.ingest`) parses,
validates, writes, and quarantines what fails. `registry` finds an ISO's
reports and connector through its declaration.
"""

from carbon254.markets.connector import Connector, DownloadTarget, Payload
from carbon254.markets.registry import connector_for, detect_report, reports_for
from carbon254.markets.report import ParseError, Report

__all__ = [
    "Connector",
    "DownloadTarget",
    "ParseError",
    "Payload",
    "Report",
    "connector_for",
    "detect_report",
    "reports_for",
]
