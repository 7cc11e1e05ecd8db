"""Health and metrics for operators: `/healthz` and `/metrics` (Prometheus text format, made
with prometheus-client) on a small HTTP server bound to METRICS_HOST:METRICS_PORT.

`BotMetrics` holds the counters the Discord front end updates (questions by front end,
outcome and shard; answer latency; votes) and reads the rest when scraped: passages and
documents indexed, the last build's time and outcome (so an index swap shows), and the
gateway latency per shard. The server runs in a daemon thread, never on the event loop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

#: Outcomes a question can have.
OUTCOMES = ("answered", "not_covered", "error", "cooled_down")
#: Answer latency buckets, in seconds.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


def _timestamp(iso: object) -> float | None:
    try:
        return datetime.fromisoformat(str(iso)).timestamp()
    except ValueError:
        return None


class _Scraped(Collector):
    """Values read at scrape time from the service (index) and the client (shard latencies)."""

    def __init__(self, service: Any, latencies: Callable[[], list[tuple[int, float]]]) -> None:
        self.service = service
        self.latencies = latencies

    def collect(self) -> Iterator[Metric]:
        index = getattr(self.service, "loaded_index", None)
        passages = GaugeMetricFamily("newsbot_passages_indexed", "Passages in the index in use")
        documents = GaugeMetricFamily("newsbot_documents_indexed", "Documents in the index in use")
        built = GaugeMetricFamily("newsbot_index_built_timestamp_seconds",
                                  "When the index in use was built (Unix time)")
        if index is not None:
            passages.add_metric([], float(len(index.passages)))
            documents.add_metric([], float(len(index.documents)))
            when = _timestamp(index.manifest.get("built_at"))
            if when is not None:
                built.add_metric([], when)
        yield passages
        yield documents
        yield built
        last = getattr(self.service, "last_build", None)
        outcome = GaugeMetricFamily("newsbot_last_build_success",
                                    "1 when the last rebuild by this process succeeded, 0 when it failed")
        at = GaugeMetricFamily("newsbot_last_build_timestamp_seconds",
                               "When the last rebuild by this process finished (Unix time)")
        if last is not None:
            outcome.add_metric([], 1.0 if last[1] == "ok" else 0.0)
            at.add_metric([], last[0])
        yield outcome
        yield at
        gateway = GaugeMetricFamily("newsbot_gateway_latency_seconds",
                                    "Discord gateway heartbeat latency per shard", labels=["shard"])
        for shard, seconds in self.latencies():
            if seconds == seconds and seconds != float("inf"):  # not NaN/inf before the first heartbeat
                gateway.add_metric([str(shard)], seconds)
        yield gateway


class BotMetrics:
    """The bot's metrics in their own registry (several bots in one process stay apart)."""

    def __init__(self, service: Any, latencies: Callable[[], list[tuple[int, float]]] = list) -> None:
        self.registry = CollectorRegistry()
        self.questions = Counter("newsbot_questions", "Questions by front end, outcome and shard",
                                 ["frontend", "outcome", "shard"], registry=self.registry)
        self.latency = Histogram("newsbot_answer_latency_seconds", "Seconds from question to answer sent",
                                 ["frontend"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.votes = Counter("newsbot_votes", "Votes on answers", ["vote"], registry=self.registry)
        self.registry.register(_Scraped(service, latencies))

    def question(self, frontend: str, outcome: str, shard: int | None = None,
                 seconds: float | None = None) -> None:
        """Count one question (`outcome` one of `OUTCOMES`), with its latency when answered."""
        self.questions.labels(frontend, outcome, str(shard or 0)).inc()
        if seconds is not None:
            self.latency.labels(frontend).observe(seconds)

    def vote(self, up: bool) -> None:
        self.votes.labels("up" if up else "down").inc()

    def exposition(self) -> bytes:
        """The Prometheus text format of every metric."""
        return generate_latest(self.registry)


class HealthServer:
    """`/healthz` and `/metrics` over HTTP on `host:port` (port 0: any free one), in a thread.

    `health()` returns `(healthy, reason)`: 200 "ok" when healthy, else 503 with the reason.
    """

    def __init__(self, metrics: BotMetrics, health: Callable[[], tuple[bool, str]], host: str, port: int) -> None:
        self.metrics = metrics
        self.health = health
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                path = self.path.split("?", 1)[0]
                if path == "/healthz":
                    try:
                        ok, reason = outer.health()
                    except Exception as exc:  # a failing check is unhealthy, not a crash
                        ok, reason = False, f"health check failed: {type(exc).__name__}"
                    self._send(200 if ok else 503, (reason + "\n").encode(), "text/plain; charset=utf-8")
                elif path == "/metrics":
                    self._send(200, outer.metrics.exposition(), CONTENT_TYPE_LATEST)
                else:
                    self._send(404, b"not found: use /healthz or /metrics\n", "text/plain; charset=utf-8")

            def _send(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - scrapes are not news
                log.debug("metrics: " + format, *args)

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="metrics", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> HealthServer:
        self._thread.start()
        log.info("serving /healthz and /metrics on %s:%d", self._server.server_address[0], self.port)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
