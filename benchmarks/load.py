"""The load generator: N asyncio workers, each with its own keep-alive HTTP/1.1 connection, bounded
in requests and in time, after a warm-up that is not measured.

The requests are written by hand on asyncio streams rather than sent with httpx2: on a small machine
the client shares the CPUs with the servers and the database, and httpx2 spends ~1 ms of CPU per
request, which at 1,000 requests/s would be a whole core taken from what is measured. This client
spends a tenth of that (the `/ping` row of the table shows its ceiling).

Every answer is checked (status 200, no "errors" in the body) without parsing the JSON: parsing a
230 kB home screen would cost the client as much as the request.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# (path, JSON body) of request n.
RequestFactory = Callable[[int], tuple[str, bytes]]


@dataclass
class Result:
    concurrency: int
    latencies: list[float] = field(default_factory=list)  # seconds, one per measured request
    elapsed: float = 0.0
    failures: int = 0
    first_failure: str = ""

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        return self.count / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile, in milliseconds."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1] * 1000

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else math.nan

    @property
    def p99(self) -> float:
        return self.percentile(99)


class Connection:
    """One keep-alive HTTP/1.1 connection; POSTs JSON and reads the answer whole."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host = host
        self.port = port
        fixed = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.fixed = f"Host: {host}:{port}\r\nContent-Type: application/json\r\n{fixed}".encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, request_id: str) -> tuple[int, bytes]:
        # uvicorn closes a connection idle for 5 s (between rows, say); like any HTTP client, send
        # again on a fresh one when a reused connection turns out to be closed before answering.
        reused = self.writer is not None
        if self.reader is not None and self.reader.at_eof():
            await self.close()
            reused = False
        try:
            return await self._post(path, body, request_id)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            if not reused or (isinstance(exc, asyncio.IncompleteReadError) and exc.partial):
                raise
            await self.close()
            return await self._post(path, body, request_id)

    async def _post(self, path: str, body: bytes, request_id: str) -> tuple[int, bytes]:
        if self.writer is None:
            # asyncio turns TCP_NODELAY on for the client's socket by itself.
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(
            b"POST %s HTTP/1.1\r\n%sX-Request-ID: %s\r\nContent-Length: %d\r\n\r\n%s"
            % (path.encode(), self.fixed, request_id.encode(), len(body), body)
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        headers = {}
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if b"content-length" in headers:
            content = await self.reader.readexactly(int(headers[b"content-length"]))
        elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            content = await self._chunked()
        else:  # no length: the body runs to the end of the connection
            content = await self.reader.read()
        if headers.get(b"connection", b"").lower() == b"close" or self.reader.at_eof():
            await self.close()
        return status, content

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts: list[bytes] = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")  # no trailers are sent to us
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(ConnectionError, OSError):  # the server may have gone first
                await self.writer.wait_closed()
        self.reader = self.writer = None


class Load:
    """The connections of one target stay open between rows, as a real client's would."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers
        self.pools: dict[str, list[Connection]] = {}

    def _connections(self, base_url: str, n: int) -> list[Connection]:
        pool = self.pools.setdefault(base_url, [])
        parts = urlsplit(base_url)
        while len(pool) < n:
            pool.append(Connection(parts.hostname or "127.0.0.1", parts.port or 80, self.headers))
        return pool[:n]

    async def close(self) -> None:
        for pool in self.pools.values():
            for conn in pool:
                await conn.close()

    async def run(
        self,
        base_url: str,
        make: RequestFactory,
        *,
        concurrency: int,
        max_requests: int,
        max_seconds: float,
        warmup_requests: int,
        warmup_seconds: float,
        tag: str,
    ) -> Result:
        """Warm up (not measured), then send until max_requests or max_seconds, whichever first.
        Request ids are `<tag>-<n>` (`w<tag>-<n>` while warming up), for the access log."""
        counter = itertools.count()
        result = Result(concurrency)

        async def worker(conn: Connection, limit: int, deadline: float, prefix: str, measured: bool) -> None:
            while time.perf_counter() < deadline:
                n = next(counter)
                if n >= limit:
                    return
                path, body = make(n)
                started = time.perf_counter()
                status, content = await conn.post(path, body, f"{prefix}-{n}")
                elapsed = time.perf_counter() - started
                ok = status == 200 and b'"errors"' not in content
                if ok and measured:
                    result.latencies.append(elapsed)
                elif not ok:
                    failure = f"{status} {content[:300]!r}"
                    if not measured:
                        raise RuntimeError(f"warm-up request failed: {failure}")
                    result.failures += 1
                    result.first_failure = result.first_failure or failure

        connections = self._connections(base_url, concurrency)
        warm_deadline = time.perf_counter() + warmup_seconds
        await asyncio.gather(
            *(worker(c, warmup_requests, warm_deadline, f"w{tag}", False) for c in connections)
        )
        counter = itertools.count(warmup_requests)
        started = time.perf_counter()
        deadline = started + max_seconds
        limit = warmup_requests + max_requests
        await asyncio.gather(*(worker(c, limit, deadline, tag, True) for c in connections))
        result.elapsed = time.perf_counter() - started
        return result
