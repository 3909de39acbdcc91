"""A real HTTP server for tests that need truly concurrent requests.

Starlette's TestClient runs one request at a time, so races (two writers on one unique key, one
counter) can only be exercised against a real server: uvicorn on its own event loop in a thread,
with its own connection pool, listening on a free port.

    with live_server(settings) as base_url:
        httpx.post(f"{base_url}/graphql", json={"query": "{ me { id } }"})
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from models.database import database_proxy

STARTUP_TIMEOUT = 15.0
SHUTDOWN_TIMEOUT = 15.0


def _listening_socket() -> socket.socket:
    # Bound here and handed to uvicorn, so no other process can take the port in between. With
    # IPPROTO_TCP named, asyncio turns on TCP_NODELAY: otherwise each answer waits ~40 ms for a
    # delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@contextmanager
def live_server(settings: Any) -> Iterator[str]:
    """Serve `server.create_app(settings)` until the block ends; yields e.g. 'http://127.0.0.1:41234'."""
    from server import create_app

    # create_app binds the models to its async database; give the test its binding back afterwards.
    previous = database_proxy.obj
    sock = _listening_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings), lifespan="on", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="live-server")
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the live server failed to start (see the log above)")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the live server did not start within {STARTUP_TIMEOUT}s")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(SHUTDOWN_TIMEOUT)
        sock.close()
        if previous is not None:
            database_proxy.initialize(previous)
