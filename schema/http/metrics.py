"""`GET /metrics` in Prometheus's text format: requests, latency, SQL statements per request,
errors by code, and the database pool.

A request's status is the one it was answered with, or 499 when the client hung up before its
body arrived (nothing was answered; schema/http/middleware.py): such a request is not an error.

Everything lives in a registry of the app's own, not prometheus_client's global one, so that
several apps in one process (the tests build one per test) never share or collide on a metric.
With `serve --workers N` each worker counts only what it served, and a scrape reaches whichever
worker accepts it (prometheus_client's multiprocess mode would be needed to add them up).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from resolvers.errors import ERROR_CODES
from schema.http.requestinfo import RequestInfo

# Operation names are chosen by clients, and every distinct label value is a time series kept
# forever by the server and by Prometheus: only names that look like names are kept, and only the
# first MAX_OPERATIONS of them; the rest share a bucket each.
OPERATION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
MAX_OPERATIONS = 200
ANONYMOUS = "anonymous"  # a GraphQL request that named no operation (or was refused before one)
OTHER = "other"  # a well-formed name beyond the first MAX_OPERATIONS
INVALID = "invalid"  # a name that is not a plain identifier of at most 64 characters
NO_OPERATION = "-"  # not a GraphQL request (/healthz)
_BUCKET_NAMES = frozenset({ANONYMOUS, OTHER, INVALID})

OPERATION_TYPES = frozenset({"query", "mutation", "subscription"})

# ERROR_CODES (resolvers/errors.py) are set to 0 from the start so that rate() and alerts see a
# series before the first error; anything else would be a bug, counted as "other".

# From a cached screen (about a millisecond) to the longest a client should ever wait.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Screens run a fixed handful of statements (README: 7 to 9); the upper buckets catch an N+1.
STATEMENT_BUCKETS = (0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89)


class PoolCollector(Collector):
    """The database pool's connections, read when scraped (nothing to keep up to date).

    pwasyncio opens its pool on the first query, so until then (and after close_pool()) there is
    none: 0 in use, 0 idle. Its pools publish no statistics of the same shape, so each is read
    as what it is:
    - SQLite (playhouse AsyncSqlitePool): opens all `pool_size` connections at once and keeps
      the idle ones in an asyncio.Queue; in use is the rest.
    - MySQL (aiomysql Pool): `freesize` idle, `size` open; in use is the difference, which
      includes a connection still being opened for someone.
    """

    def __init__(self, db: Any) -> None:
        self.db = db

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield from self._families()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        in_use, idle, limit = self.read()
        connections, maximum = self._families()
        connections.add_metric(["in_use"], in_use)
        connections.add_metric(["idle"], idle)
        maximum.add_metric([], limit)
        yield connections
        yield maximum

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                "videolib_db_pool_connections",
                "Open database connections in the pool, by state",
                labels=["state"],
            ),
            GaugeMetricFamily("videolib_db_pool_max_connections", "The most connections the pool will open"),
        )

    def read(self) -> tuple[int, int, int]:
        """(in use, idle, maximum). Reads pwasyncio's private attributes: each read tolerates
        their absence, so a peewee upgrade degrades to zeros instead of failing every scrape."""
        db = self.db
        pool = getattr(db, "_pool", None)
        configured = int(getattr(db, "_pool_size", 0) or 0)
        if pool is None:
            return 0, 0, configured
        queue = getattr(pool, "_queue", None)
        if queue is not None:  # SQLite
            limit = int(getattr(pool, "_pool_size", configured))
            idle = queue.qsize()
            return max(limit - idle, 0), idle, limit
        if hasattr(pool, "freesize"):  # aiomysql
            idle = int(pool.freesize)
            return max(int(pool.size) - idle, 0), idle, int(pool.maxsize)
        return 0, 0, configured


class Metrics:
    """The app's metrics: pass `observe` as RequestScope's on_finish, and route `endpoint`."""

    def __init__(
        self,
        db: Any,
        *,
        graphql_path: str = "/graphql",
        metrics_path: str = "/metrics",
        max_operations: int = MAX_OPERATIONS,
    ) -> None:
        # The paths the app routes to the GraphQL view and to `endpoint`.
        self.graphql_path = graphql_path
        self.metrics_path = metrics_path
        self.max_operations = max_operations
        self._operations: set[str] = set()
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "videolib_http_requests",
            "HTTP requests answered, by GraphQL operation name and status",
            ["operation", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "videolib_http_request_duration_seconds",
            "Time from receiving a request to having sent its response, by GraphQL operation type",
            ["operation_type"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.statements = Histogram(
            "videolib_http_request_sql_statements",
            "SQL statements one request ran, by GraphQL operation type",
            ["operation_type"],
            buckets=STATEMENT_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "videolib_graphql_errors",
            "Errors answered, by extensions.code (one request can carry several)",
            ["code"],
            registry=self.registry,
        )
        for code in ERROR_CODES:
            self.errors.labels(code)
        self.pool = PoolCollector(db)
        self.registry.register(self.pool)

    def operation_label(self, info: RequestInfo) -> str:
        if info.path != self.graphql_path:
            return NO_OPERATION
        name = info.operation_name
        if not name:
            return ANONYMOUS
        # A client's "other" must not read as the overflow bucket, nor its "anonymous" as no name.
        if not OPERATION_NAME.fullmatch(name) or name in _BUCKET_NAMES:
            return INVALID
        if name not in self._operations:
            if len(self._operations) >= self.max_operations:
                return OTHER
            self._operations.add(name)
        return name

    @staticmethod
    def operation_type_label(info: RequestInfo) -> str:
        kind = info.operation_type
        if kind is None:
            return NO_OPERATION
        return kind if kind in OPERATION_TYPES else OTHER

    def observe(self, info: RequestInfo, status: int, duration: float) -> None:
        """RequestScope's on_finish: called once per HTTP request, after its response was sent."""
        # Scrapes are not counted: every 15 seconds or so, they would outnumber the requests of a
        # quiet server and flatten its latency, and Prometheus records them itself (`up`,
        # `scrape_duration_seconds`).
        if info.path == self.metrics_path:
            return
        kind = self.operation_type_label(info)
        self.requests.labels(self.operation_label(info), str(status)).inc()
        self.duration.labels(kind).observe(duration)
        self.statements.labels(kind).observe(info.statement_count)
        for code in info.error_codes:
            self.errors.labels(code if code in ERROR_CODES else OTHER).inc()

    async def endpoint(self, request: Request) -> Response:
        # Synchronous and quick (no I/O: the pool is read from memory), so on the event loop.
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)
