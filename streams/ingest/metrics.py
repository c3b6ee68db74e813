"""The ingest gateway's Prometheus metrics: ``GET /metrics`` on the gateway's own port.

The WebSocket server answers plain HTTP requests in its ``process_request`` hook; a request
for ``/metrics`` is answered there with ``GatewayStats`` in the Prometheus text format and
never upgraded. Every other path goes on to the token and Origin checks as before.

Invariants:
- Counters are the gateway's own (``GatewayStats``), rendered as ``touchstream_gateway_*``;
  a scrape changes nothing.
- ``/metrics`` needs no token: it holds counts only, no event data and no identities. Route
  only the WebSocket path to the gateway from outside (the Helm chart's Service does not
  publish it beyond the cluster).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

from prometheus_client import generate_latest
from prometheus_client.core import CollectorRegistry, CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

if TYPE_CHECKING:
    from streams.ingest.auth import ProcessRequest

PATH: Final = "/metrics"
CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"

#: ``GatewayStats`` field -> (metric name without ``touchstream_gateway_`` and ``_total``, help)
COUNTERS: Final = {
    "connections": ("connections", "WebSocket connections accepted."),
    "frames": ("frames", "WebSocket frames received."),
    "accepted": ("events_accepted", "Events stored by the sink and acknowledged."),
    "invalid": ("events_invalid", "Bad input answered with an error frame."),
    "dead_lettered": ("dead_lettered", "Bad input stored on the dead-letter topic."),
    "dead_letters_over_budget": ("dead_letters_over_budget",
                                 "Bad input not dead-lettered: over its connection's budget."),
    "dead_letters_failed": ("dead_letters_failed", "Dead letters the sink refused."),
    "rate_limited": ("events_rate_limited", "Events refused by a connection's rate limit."),
    "failed": ("events_failed", "Events the sink refused (answered: send it again)."),
}
GAUGES: Final = {
    "open_connections": ("open_connections", "WebSocket connections open now."),
}


class _StatsCollector:
    """Reads the gateway's counters at each scrape."""

    def __init__(self, stats: Any) -> None:
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        for f in fields(self._stats):
            value = getattr(self._stats, f.name)
            if f.name in COUNTERS:
                name, help_text = COUNTERS[f.name]
                yield CounterMetricFamily(f"touchstream_gateway_{name}", help_text,
                                          value=float(value))
            elif f.name in GAUGES:
                name, help_text = GAUGES[f.name]
                yield GaugeMetricFamily(f"touchstream_gateway_{name}", help_text,
                                        value=float(value))


def registry_of(stats: Any, *, process: bool = True) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_StatsCollector(stats))
    if process:
        ProcessCollector(registry=registry)
    return registry


def render(stats: Any) -> bytes:
    """``stats`` in the Prometheus text format (without process metrics)."""
    return bytes(generate_latest(registry_of(stats, process=False)))


def with_metrics(inner: ProcessRequest, stats: Any) -> ProcessRequest:
    """``inner`` (the handshake checks) with ``GET /metrics`` answered before it; ``stats``
    is the gateway's ``GatewayStats`` (a dataclass of counts)."""
    registry = registry_of(stats)

    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        if request.path.split("?", 1)[0] != PATH:
            return inner(connection, request)
        body = generate_latest(registry)
        headers = Headers([("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body))),
                           ("Connection", "close")])
        return Response(HTTPStatus.OK.value, "OK", headers, body)

    return process_request
