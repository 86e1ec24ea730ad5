"""Log formatting: one JSON object per line (or readable text), request ids stamped, secrets redacted.

`logging_config(settings)` is a `logging.config.dictConfig` dictionary that
`carbon254 serve` hands to uvicorn, so uvicorn's own loggers and ours share
one format. uvicorn's access log is silenced: the service writes its own
access line per request (`carbon254.access`, see `access.py`) carrying the
request id, route, status, duration and tenant, with secrets redacted.

A JSON line holds `ts` (UTC, ISO-8601 with milliseconds), `level`, `logger`,
`message`, `request_id` (null outside a request) and, when the record has
them, `method`, `path`, `query`, `status`, `duration_ms`, `tenant`, `route`,
`client` and `exc_info` (the formatted traceback).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson

from carbon254.config import Settings
from carbon254.service.ops.redaction import redact_text
from carbon254.service.ops.request_id import current_request_id

ACCESS_LOGGER = "carbon254.access"

# Record attributes copied into the JSON object when present (set via `extra=`).
EXTRA_FIELDS = ("method", "path", "query", "route", "status", "duration_ms", "tenant", "client")


class RequestIdFilter(logging.Filter):
    """Stamps `record.request_id` with the current request's id (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keeps the record; only adds the attribute if the caller did not set one."""
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; the message and traceback pass through `redact_text`."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a single-line JSON object (see the module docstring for the fields)."""
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_text(record.getMessage()),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
        }
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = redact_text(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exc_info"] = redact_text(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exc_info"] = redact_text(record.exc_text)
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """Human-readable lines (`CARBON254_LOG_JSON=false`), with the request id and secrets redacted."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The record as text; `request_id` shows as `-` outside a request."""
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id() or "-"
        return redact_text(super().format(record))


def formatter_for(settings: Settings) -> logging.Formatter:
    """The formatter `settings.log_json` asks for."""
    return JsonFormatter() if settings.log_json else TextFormatter()


def logging_config(settings: Settings, level: str = "info") -> dict[str, Any]:
    """A `dictConfig` dictionary for the server process: everything to stderr in the chosen format.

    `level` applies to the `carbon254` and `uvicorn` loggers (`info` logs one
    access line per request). uvicorn's access logger is turned off in favour
    of `carbon254.access`, which knows the request id and redacts secrets.
    """
    name = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"default": {"()": JsonFormatter if settings.log_json else TextFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "default",
                "filters": ["request_id"],
            }
        },
        "loggers": {
            "carbon254": {"handlers": ["stderr"], "level": name, "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": name, "propagate": False},
            "uvicorn.error": {"level": name},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }
