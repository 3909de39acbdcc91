"""One request through an ASGI app, driven message by message as a server would drive it.

For what an HTTP client library cannot send: a body cut off by a disconnect, or one that stops
arriving. TestClient and httpx always deliver the whole body at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

Message = dict[str, Any]


def scope(method: str, path: str, headers: Sequence[tuple[bytes, bytes]] = ()) -> Message:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }


async def call(
    app: Any,
    method: str,
    path: str,
    headers: Sequence[tuple[bytes, bytes]] = (),
    messages: Sequence[Message] = ({"type": "http.request", "body": b"", "more_body": False},),
) -> list[Message]:
    """What the app sent. receive() hands out `messages` in turn; after the last it waits forever,
    like a client that has stopped sending but not hung up."""
    pending = list(messages)
    sent: list[Message] = []

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope(method, path, headers), receive, send)
    return sent


def status_and_body(sent: list[Message]) -> tuple[int, bytes]:
    [start, *bodies] = sent
    assert start["type"] == "http.response.start"
    return int(start["status"]), b"".join(m.get("body", b"") for m in bodies)
