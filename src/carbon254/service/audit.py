"""The audit trail of the service: one event per data request and per admin action.

`install_audit(app, settings)` adds an ASGI middleware that records every
`/v1/**` and `/graphql` request, and every `/v1/stream` WebSocket when it
ends: who (the principal the request authenticated as, kept on the
request's state by `identity`), what (method, path, query parameters with
secrets redacted), how many rows (the `X-Carbon254-Count` response header),
the status, the duration and the request id. Admin routes add a second,
semantic event with `audit_action` (e.g. `admin.key.revoke` of a key id).

Events go to `app.state.audit_log`, whose writer thread does the database
work: recording never waits on the database and never fails a request.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import CollectorRegistry
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carbon254.application.identity import Principal
from carbon254.config import Settings
from carbon254.metadata import AuditEvent, AuditLog
from carbon254.service.auth import install_metadata

logger = logging.getLogger("carbon254.audit")

COUNT_HEADER = "x-carbon254-count"
REQUEST_ID_HEADER = "x-request-id"
REDACTED = "[redacted]"
# Query parameters whose values are credentials, whatever they hold.
SECRET_PARAMETERS = frozenset(
    {"token", "access_token", "id_token", "api_key", "apikey", "key", "secret", "password", "authorization"}
)
# Values that look like credentials under any parameter name: an API key or a JWT.
SECRET_VALUE = re.compile(r"c254_\S+|[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
MAX_VALUE_CHARS = 1000  # a 2,000-location list is kept readable, not whole


def audited_path(path: str) -> bool:
    """Whether requests to `path` are audited: the data API (`/v1/...`) and GraphQL."""
    return path == "/v1" or path.startswith("/v1/") or path == "/graphql" or path.startswith("/graphql/")


def redact_parameters(query_string: str) -> dict[str, str]:
    """The query parameters of a request, fit for the audit log.

    Secret-bearing parameters and credential-shaped values are replaced by
    `[redacted]`; repeated parameters are joined with commas; values are cut
    to 1,000 characters.
    """
    values: dict[str, list[str]] = {}
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        if name.lower() in SECRET_PARAMETERS or SECRET_VALUE.search(value):
            value = REDACTED
        values.setdefault(name, []).append(value)
    redacted: dict[str, str] = {}
    for name, parts in values.items():
        joined = ",".join(parts)
        if len(joined) > MAX_VALUE_CHARS:
            joined = f"{joined[:MAX_VALUE_CHARS]}... ({len(joined)} characters)"
        redacted[name] = joined
    return redacted


def _action(scope: Scope) -> str:
    if scope["type"] == "websocket":
        return "stream"
    return "graphql" if str(scope["path"]).startswith("/graphql") else "request"


@dataclass(slots=True)
class _Outcome:
    """What the response said about itself, collected as it is sent."""

    status: int | None = None
    rows: int | None = None
    request_id: str | None = None


class AuditMiddleware:
    """ASGI middleware recording each audited HTTP request and WebSocket session in the app's audit log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not audited_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        at = datetime.now(UTC)
        started = time.perf_counter()
        outcome = _Outcome()

        async def observe(message: Message) -> None:
            kind = message["type"]
            if kind in ("http.response.start", "websocket.http.response.start"):
                outcome.status = message["status"]
                headers = Headers(raw=message.get("headers", []))
                count = headers.get(COUNT_HEADER)
                outcome.rows = int(count) if count and count.isdigit() else None
                outcome.request_id = headers.get(REQUEST_ID_HEADER)
            elif kind == "websocket.accept":
                outcome.status = 101
            elif kind == "websocket.close" and outcome.status is None:
                outcome.status = 403  # closed before accepting: the handshake was refused
            await send(message)

        try:
            await self.app(scope, receive, observe)
        except BaseException:
            if outcome.status is None:
                outcome.status = 500
            raise
        finally:
            self._record(scope, at, started, outcome)

    def _record(self, scope: Scope, at: datetime, started: float, outcome: _Outcome) -> None:
        # Never let auditing break the response: anything going wrong here is logged.
        try:
            audit_log: AuditLog | None = getattr(scope["app"].state, "audit_log", None)
            if audit_log is None:
                return
            state = scope.get("state", {})
            principal: Principal | None = state.get("principal")
            headers = Headers(scope=scope)
            # The id the request-context middleware assigned, else the client's or the response's.
            request_id = state.get("request_id") or headers.get(REQUEST_ID_HEADER) or outcome.request_id
            query = scope.get("query_string", b"").decode("latin-1")
            audit_log.record(
                AuditEvent(
                    tenant=principal.tenant if principal else None,
                    subject=principal.subject if principal else None,
                    method=scope.get("method", "WS"),
                    action=_action(scope),
                    target=scope["path"],
                    status=outcome.status if outcome.status is not None else 500,
                    parameters=redact_parameters(query),
                    rows=outcome.rows,
                    duration_ms=(time.perf_counter() - started) * 1000.0,
                    request_id=request_id,
                    at=at,
                )
            )
        except Exception:
            logger.exception("could not record the audit event of %s", scope.get("path"))


def audit_action(
    request: Request,
    action: str,
    target: str,
    parameters: dict[str, str] | None = None,
    *,
    status: int = 200,
    rows: int | None = None,
) -> None:
    """Record an admin action (e.g. `admin.key.revoke` of key id `target`) done by `request`'s caller.

    The caller is the principal the request authenticated as; `parameters`
    must hold no secrets. Queued like every audit event: never waits on the
    database.
    """
    audit_log: AuditLog | None = getattr(request.app.state, "audit_log", None)
    if audit_log is None:
        logger.error("no audit log on this app: %s of %s not recorded", action, target)
        return
    principal: Principal | None = getattr(request.state, "principal", None)
    audit_log.record(
        AuditEvent(
            tenant=principal.tenant if principal else None,
            subject=principal.subject if principal else None,
            method=request.method,
            action=action,
            target=target,
            status=status,
            parameters=parameters or {},
            rows=rows,
            request_id=getattr(request.state, "request_id", None) or request.headers.get(REQUEST_ID_HEADER),
        )
    )


class AuditCollector:
    """Prometheus view of an audit log: events written, dropped and failed, and the queue's length."""

    def __init__(self, audit_log: AuditLog) -> None:
        self.audit_log = audit_log

    def collect(self) -> Iterator[Metric]:
        """`carbon254_audit_events_total{outcome}` and `carbon254_audit_queue_events`, read at scrape time."""
        counts = self.audit_log.counts()
        events = CounterMetricFamily(
            "carbon254_audit_events",
            "Audit events by outcome: written, dropped (queue full) or failed (database write error).",
            labels=["outcome"],
        )
        events.add_metric(["written"], counts.written)
        events.add_metric(["dropped"], counts.dropped)
        events.add_metric(["failed"], counts.failed)
        yield events
        yield GaugeMetricFamily(
            "carbon254_audit_queue_events", "Audit events waiting to be written.", value=counts.queued
        )


def install_audit(app: FastAPI, settings: Settings) -> None:
    """Audit every `/v1/**` and `/graphql` request of `app` (opening the metadata database if needed).

    Also registers `AuditCollector` on the app's Prometheus registry, when it has one.
    """
    install_metadata(app, settings)
    app.add_middleware(AuditMiddleware)
    registry: CollectorRegistry | None = getattr(app.state, "metrics_registry", None)
    if registry is not None:
        registry.register(AuditCollector(app.state.audit_log))
