"""uvicorn's HTTP protocol with Nagle's algorithm off on every connection.

With `--workers N` (N > 1), uvicorn binds the listening socket itself as `socket.socket(family)`,
so its proto is 0; accepted sockets inherit that, and asyncio only sets TCP_NODELAY when proto is
IPPROTO_TCP (uvicorn issue #3149). The body then waits for the client's delayed ACK of the
headers: about 40 ms on every keep-alive request, measured by `make bench` (a /ping at 44 ms
instead of 0.4 ms). One worker was not affected; this makes both the same.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.auto import AutoHTTPProtocol

# For uvicorn.run(http=...): a string, so worker processes import it themselves.
NO_DELAY_HTTP = "schema.http.transport:NoDelayHTTPProtocol"


class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    """What `--http auto` picks, with TCP_NODELAY set as each connection is made."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
