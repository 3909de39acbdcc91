"""uvicorn's HTTP protocol with Nagle's algorithm off on every connection, and a deadline for
each request's headers.

With `--workers N` (N > 1), uvicorn binds the listening socket itself as `socket.socket(family)`,
so its proto is 0; accepted sockets inherit that, and asyncio only sets TCP_NODELAY when proto is
IPPROTO_TCP (uvicorn issue #3149). The body then waits for the client's delayed ACK of the
headers: about 40 ms on every keep-alive request, measured by `make bench` (a /ping at 44 ms
instead of 0.4 ms). One worker was not affected; this makes both the same.

uvicorn has no deadline for a request's headers: its keep-alive timer runs only between a response
and the next byte, so a connection that sends nothing, or trickles its headers a byte every few
seconds, stays open for ever (h11 and httptools alike). HeaderDeadlineHTTPProtocol closes it
after VIDEOLIB_HEADER_TIMEOUT_SECONDS. The body's deadline is the app's (schema/http/deadlines.py).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol

from resolvers.config import load_connections

log = logging.getLogger("videolib")

# For uvicorn.run(http=...): strings, so worker processes import them themselves.
NO_DELAY_HTTP = "schema.http.transport:NoDelayHTTPProtocol"
SERVE_HTTP = "schema.http.transport:HeaderDeadlineHTTPProtocol"

# Written by hand, not through the parser: no request has been parsed to answer.
HEADER_TIMEOUT_RESPONSE = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    """What `--http auto` picks, with TCP_NODELAY set as each connection is made."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


@functools.cache
def header_timeout() -> float:
    """Read once per worker process: uvicorn builds protocols from its own Config, not Settings.
    (`serve` has parsed the same variables before starting, so a bad value never gets here.)"""
    return load_connections(dict(os.environ)).header_timeout_seconds


class HeaderDeadlineHTTPProtocol(NoDelayHTTPProtocol):
    """Closes a connection whose request headers are not all in within header_timeout() of the
    connection opening, or of the first byte of its next request on a kept-alive connection.

    uvicorn makes a new request cycle (`self.cycle`) when it has parsed a request's headers, in
    both of its parsers: the deadline holds until the cycle changes. An idle kept-alive connection
    is left to uvicorn's own keep-alive timeout."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_cycle: object = None  # the cycle before the headers now awaited
        self._head_begun = False  # some of them have arrived

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._await_head()

    def data_received(self, data: bytes) -> None:
        if self._head_timer is None and (self.cycle is None or self.cycle.response_complete):
            self._await_head()  # the next request on a kept-alive connection begins
        self._head_begun = True
        super().data_received(data)
        if self._head_timer is not None and self.cycle is not self._head_cycle:
            self._stop_waiting()  # its headers are in: from here on the body's deadline rules

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def _await_head(self) -> None:
        self._head_cycle = self.cycle
        self._head_begun = False
        self._head_timer = self.loop.call_later(header_timeout(), self._head_timed_out)

    def _stop_waiting(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        client = "{}:{}".format(*self.client) if self.client else "a client"
        log.info("closing the connection of %s: no request headers within %ss", client, header_timeout())
        if self._head_begun:  # a request was on its way: say why it ends (RFC 9110 section 15.5.9)
            self.transport.write(HEADER_TIMEOUT_RESPONSE)
        self.transport.close()
