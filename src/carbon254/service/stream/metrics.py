"""Prometheus metrics of the stream: connected clients, messages sent, slow consumers dropped."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge


@dataclass
class StreamMetrics:
    """The stream's metrics, created unregistered and registered on the app's registry at startup."""

    connected: Gauge = field(
        default_factory=lambda: Gauge(
            "carbon254_stream_clients", "WebSocket clients connected to /v1/stream.", registry=None
        )
    )
    sent: Counter = field(
        default_factory=lambda: Counter(
            "carbon254_stream_messages_sent", "Messages sent to /v1/stream clients.", registry=None
        )
    )
    dropped: Counter = field(
        default_factory=lambda: Counter(
            "carbon254_stream_consumers_dropped",
            "Clients closed with 4008 for falling stream_queue_max messages behind.",
            registry=None,
        )
    )
    _registered: set[int] = field(default_factory=set, repr=False)

    def register(self, registry: CollectorRegistry) -> None:
        """Register every metric on `registry` (once per registry; an app may start more than once)."""
        if id(registry) in self._registered:
            return
        for metric in (self.connected, self.sent, self.dropped):
            registry.register(metric)
        self._registered.add(id(registry))
