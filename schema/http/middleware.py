"""Pure ASGI middleware (no extra task per request, so context variables reach the app)."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from starlette.requests import ClientDisconnect

from models.database import StatementBudget, statement_budget
from schema.http.requestinfo import RequestInfo, current_request, request_id_from

log = logging.getLogger("videolib")
access_log = logging.getLogger("videolib.access")

REQUEST_ID_HEADER = b"x-request-id"
# nginx's "client closed request": what the access log and metrics count for a client that hung
# up before its request arrived in full. Never sent: there is no one left to send it to.
CLIENT_CLOSED_REQUEST = 499


def error_body(message: str, code: str, request_id: str | None = None) -> bytes:
    extensions: dict[str, str] = {"code": code}
    if request_id:
        extensions["requestId"] = request_id
    return orjson.dumps({"errors": [{"message": message, "extensions": extensions}]})


async def send_error(send: Any, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestScope:
    """Gives each request an id (echoed in X-Request-ID), counts its SQL statements, writes one
    access-log line for it, and turns any exception that escapes the app into a JSON 500 that
    carries the id, never a traceback. A client that hangs up mid-request is none of those: it is
    logged as a disconnect and counted as 499, and nothing is sent."""

    def __init__(
        self,
        app: Any,
        on_finish: Any = None,
        max_connections: int | None = None,
    ) -> None:
        self.app = app
        # Called with the RequestInfo and status once the response is sent (metrics hook).
        self.on_finish = on_finish
        # Connections one request may hold at once (VIDEOLIB_REQUEST_CONNECTIONS). Its statement
        # limit is set by the GraphQL view, which knows how many operations it carries.
        self.max_connections = max_connections

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        incoming = headers.get(REQUEST_ID_HEADER)
        info = RequestInfo(
            request_id=request_id_from(incoming.decode("latin-1") if incoming else None),
            method=scope.get("method", ""),
            path=scope.get("path", ""),
            statements=StatementBudget(connections=self.max_connections),
        )
        status = 500
        started = False

        async def tagged(message: Any) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", ()),
                    (REQUEST_ID_HEADER, info.request_id.encode()),
                ]
            await send(message)

        request_token = current_request.set(info)
        counter_token = statement_budget.set(info.statements)
        try:
            await self.app(scope, receive, tagged)
        except ClientDisconnect:
            # Raised by Starlette when the body is read after the client hung up (a closed tab,
            # a dropped mobile link): not a fault of the server, and not worth a traceback.
            log.info("client disconnected before its request arrived: %s %s", info.method, info.path)
            if not started:
                status = CLIENT_CLOSED_REQUEST
        except Exception:
            log.exception("unhandled error serving %s %s", info.method, info.path)
            info.error_codes.append("INTERNAL_SERVER_ERROR")
            if not started:
                await send_error(
                    tagged, 500, error_body("Internal server error", "INTERNAL_SERVER_ERROR", info.request_id)
                )
        finally:
            # Before the reset, so the access line carries the request id in its record too.
            self._finish(info, status)
            statement_budget.reset(counter_token)
            current_request.reset(request_token)

    def _finish(self, info: RequestInfo, status: int) -> None:
        duration = time.perf_counter() - info.started
        if access_log.isEnabledFor(logging.INFO):
            access_log.info(
                "%s",
                orjson.dumps(
                    {
                        "request_id": info.request_id,
                        "method": info.method,
                        "path": info.path,
                        "operation": info.operation_name,
                        "operation_type": info.operation_type,
                        "status": status,
                        "duration_ms": round(duration * 1000, 2),
                        "sql_statements": info.statement_count,
                        "sql_ms": round(info.statements.seconds * 1000, 2),
                        "error_codes": info.error_codes,
                    }
                ).decode(),
            )
        if self.on_finish is not None:
            self.on_finish(info, status, duration)


class JsonBodyLimitErrors:
    """Starlette's body limit answers 413 in plain text; clients here parse JSON errors with a code."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        replaced = False

        async def rewritten(message: Any) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] == 413:
                replaced = True
                limit = scope.get("starlette.max_body_size")
                shown = f" of {limit} bytes" if isinstance(limit, int) else ""
                body = error_body(
                    f"The request body is larger than the limit{shown} (VIDEOLIB_MAX_BODY_BYTES)",
                    "BAD_USER_INPUT",
                )
                await send_error(send, 413, body)
                return
            if replaced:  # the plain-text body that went with the 413
                return
            await send(message)

        await self.app(scope, receive, rewritten)
