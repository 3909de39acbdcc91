"""A deadline for a request's body: a client that trickles it is answered 408 and cut off.

uvicorn reads a body as fast as the client sends it and never gives up on one, so a client sending
a byte every few seconds holds its connection (and the request's task) for as long as it likes.
Headers have their own deadline, in the HTTP protocol (schema/http/transport.py): the app only
sees a request once they have all arrived.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from schema.http.middleware import error_body
from schema.http.requestinfo import current_request

log = logging.getLogger("videolib")

CODE = "BAD_USER_INPUT"


class BodyTimedOut(Exception):
    """Raised from receive() to unwind the app; BodyDeadline answers it."""


class BodyDeadline:
    """The whole body must arrive within `seconds` of the request reaching the app.

    Wraps `receive` only until the last body message: a response that later waits for the
    client to disconnect (streaming) is not cut short. Sits inside RequestScope, so a 408 is
    logged and counted like any other answer."""

    def __init__(self, app: Any, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        body_done = False
        started = False

        async def timed_receive() -> Any:
            nonlocal body_done
            if body_done:
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise BodyTimedOut from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        async def watched_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, timed_receive, watched_send)
        except BodyTimedOut:
            if started:  # cannot happen while the body is still being read; nothing to answer
                raise
            await self._answer(send, scope)

    async def _answer(self, send: Any, scope: Any) -> None:
        log.info("request body not received within %ss: %s %s", self.seconds, scope["method"], scope["path"])
        info = current_request.get()
        if info is not None:
            info.error_codes.append(CODE)
        message = (
            f"The request body did not arrive within {self.seconds:g} seconds (VIDEOLIB_BODY_TIMEOUT_SECONDS)"
        )
        body = error_body(message, CODE)
        # Connection: close, because the rest of the body may still be on its way: read as a next
        # request on the same connection, it would be garbage.
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(body)),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 408, "headers": headers})
        await send({"type": "http.response.body", "body": body})
