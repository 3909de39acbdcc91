"""A TCP proxy in front of MariaDB that a test can break on purpose.

The MariaDB server is shared with every other test running at the same time, so it cannot be
stopped or firewalled. A server under test is pointed at this proxy instead, and the test switches
the path between the two:

    forward()    relay both ways (the normal state)
    refuse()     close the listener and every relayed connection: new connects are refused,
                 as when the database is down
    blackhole()  accept connects but relay nothing, on new and existing connections: the
                 database neither answers nor hangs up, as behind a dead router. Only the
                 client's own timeouts end a wait
    conceal_closes
                 when True, a connection the database closes stays open towards the client
                 until the client sends something, then it is closed unanswered: a connection
                 that died where no FIN reached the client (a NAT or firewall dropping it, or
                 the moment between a KILL and the client noticing)
    lose_reply_to(marker)
                 once: the statement containing `marker` reaches the database, its answer is
                 dropped and the connection cut (b"COMMIT": the client cannot know it committed)

The proxy runs its own event loop in a daemon thread; every method may be called from any thread.

    with TcpProxy("127.0.0.1", 3306) as proxy:
        config = dataclasses.replace(db_config, port=proxy.port)
        proxy.blackhole()
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any

CHUNK = 65536


class _Link:
    """One client connection and, once forwarded, its connection to the database."""

    def __init__(self, client: asyncio.StreamWriter) -> None:
        self.client = client
        self.upstream: asyncio.StreamWriter | None = None
        self.cut = False  # the database's next answer is dropped and the connection cut

    def upstream_port(self) -> int | None:
        if self.upstream is None:
            return None
        sockname = self.upstream.get_extra_info("sockname")
        return int(sockname[1]) if sockname else None

    def abort(self) -> None:
        for writer in (self.client, self.upstream):
            if writer is not None:
                writer.transport.abort()


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.conceal_closes = False
        self._lose_reply_to: bytes | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="tcp-proxy")
        self._server: asyncio.AbstractServer | None = None
        self._links: set[_Link] = set()
        self._flowing: asyncio.Event | None = None  # set unless black-holed
        self.port = 0

    # --- control, from any thread ---------------------------------------------------------

    def start(self) -> TcpProxy:
        self._thread.start()
        self._call(self._start())
        return self

    def forward(self) -> None:
        self._call(self._forward())

    def refuse(self) -> None:
        self._call(self._refuse())

    def blackhole(self) -> None:
        self._call(self._blackhole())

    def lose_reply_to(self, marker: bytes) -> None:
        """Once: the next client packet containing `marker` reaches the database, and the
        database's answer to it is dropped and the connection cut, so the client cannot know
        whether the statement ran (with b"COMMIT": whether the transaction committed)."""

        async def arm() -> None:
            self._lose_reply_to = marker

        self._call(arm())

    def upstream_ports(self) -> set[int]:
        """The local ports of the proxy's connections to the database: the server's process list
        shows them as the client's host:port, so a test can KILL exactly the proxied sessions."""

        async def ports() -> set[int]:
            return {p for link in self._links if (p := link.upstream_port()) is not None}

        return self._call(ports())

    def close(self) -> None:
        if self._thread.is_alive():
            self._call(self._shutdown())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
        self._loop.close()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    # --- on the proxy's loop --------------------------------------------------------------

    async def _start(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        # Port 0 the first time; the same port again after refuse() (SO_REUSEADDR is on).
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _forward(self) -> None:
        assert self._flowing is not None
        if self._server is None:
            await self._start()
        self._flowing.set()

    async def _refuse(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for link in list(self._links):
            link.abort()
        self._links.clear()

    async def _shutdown(self) -> None:
        await self._refuse()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _blackhole(self) -> None:
        assert self._flowing is not None
        if self._server is None:
            await self._start()
        self._flowing.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._flowing is not None
        link = _Link(writer)
        self._links.add(link)
        try:
            if not self._flowing.is_set():
                # Black-holed from the start: never reach the database, answer nothing, until
                # the client gives up and hangs up.
                await reader.read()
                return
            up_reader, up_writer = await asyncio.open_connection(*self.target)
            link.upstream = up_writer
            to_client = asyncio.create_task(self._pipe(up_reader, writer, link, to_database=False))
            to_database = asyncio.create_task(self._pipe(reader, up_writer, link, to_database=True))
            try:
                await asyncio.wait((to_client, to_database), return_when=asyncio.FIRST_COMPLETED)
                if to_client.done() and not to_database.done() and self.conceal_closes and not link.cut:
                    # The database hung up: say nothing until the client sends its next bytes.
                    to_database.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await to_database
                    await reader.read(CHUNK)
            finally:
                to_client.cancel()
                to_database.cancel()
        except (OSError, asyncio.CancelledError):
            pass  # cancelled by close(): end quietly (asyncio logs a cancelled connection handler)
        finally:
            self._links.discard(link)
            link.abort()

    async def _pipe(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, link: _Link, *, to_database: bool
    ) -> None:
        assert self._flowing is not None
        with contextlib.suppress(OSError):
            while data := await source.read(CHUNK):
                # Black-holed: hold the bytes (a partitioned network delivers them later).
                await self._flowing.wait()
                if to_database and self._lose_reply_to is not None and self._lose_reply_to in data:
                    self._lose_reply_to = None
                    link.cut = True
                elif not to_database and link.cut:
                    return  # the answer is dropped, and _accept cuts the connection
                sink.write(data)
                await sink.drain()
