"""POST and GET /graphql, answered as graphql.github.io/graphql-over-http says.

- Media type: negotiation.py. With application/graphql-response+json, a request error (the
  document does not parse or validate, variables do not fit, the token is bad: no `data` in the
  answer) gets a 4xx, or 500 when the failure is ours; any executed operation gets 200. With
  application/json every well-formed request gets 200, as legacy clients expect.
- Refused before GraphQL: a body that is not JSON or not an object (400), a content type other
  than application/json (415: this also stops cross-site form posts), a mutation over GET (405,
  Allow: POST), another method (405, Allow: GET, POST), nothing acceptable (406), a batch when
  batching is off or too long (400).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import orjson
from graphql import GraphQLError, GraphQLSchema, parse
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from resolvers.config import Settings
from schema.errors import with_codes
from schema.http.caching import NO_STORE, CachePolicies, etag, matches
from schema.http.graphiql import CSP
from schema.http.negotiation import GRAPHQL_RESPONSE, JSON, response_type, wants_html
from schema.http.params import GraphQLParams, HttpError, decode_body, from_mapping, from_query_string
from schema.http.persisted import NOT_FOUND_CODE, NOT_FOUND_MESSAGE, PersistedQueries, PersistedQueryNotFound
from schema.http.requestinfo import current_request
from schema.limits import RUNTIME_ALLOWANCE, Measure, measure_document, write_refusals

log = logging.getLogger("videolib")

# GraphiQL loads nothing but this server's own files (schema/http/graphiql/); the URL answers JSON too.
GRAPHIQL_HEADERS = {"Content-Security-Policy": CSP, "Vary": "Accept"}
# The same URL answers differently by Accept, and by who asks.
VARY = "Accept, Authorization"
# Request errors under application/graphql-response+json: the first error's code picks the status.
REQUEST_ERROR_STATUS = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403, "INTERNAL_SERVER_ERROR": 500}
OVER_GET = frozenset({OperationType.QUERY})
OVER_POST = frozenset({OperationType.QUERY, OperationType.MUTATION})


class GraphQLEndpoint:
    def __init__(
        self,
        schema: Any,
        settings: Settings,
        make_context: Callable[[Request], Any],
        graphiql_html: str | None,
        persisted: PersistedQueries,
    ) -> None:
        self.schema = schema
        self.settings = settings
        self.make_context = make_context
        self.graphiql_html = graphiql_html
        self.persisted = persisted
        self.policies = CachePolicies(schema._schema)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        accept = request.headers.get("accept")
        browsing = not {"query", "extensions"} & request.query_params.keys()
        if request.method == "GET" and wants_html(accept) and browsing:
            if self.graphiql_html is None:
                return self.refuse(HttpError(404, "GraphiQL is turned off on this server"), JSON)
            return HTMLResponse(self.graphiql_html, headers=GRAPHIQL_HEADERS)
        media = response_type(accept)
        try:
            if media is None:
                raise HttpError(406, f"This endpoint answers {GRAPHQL_RESPONSE} or {JSON}")
            if request.method == "GET":
                params = from_query_string(request.query_params)
            elif request.method == "POST":
                data = decode_body(request.headers.get("content-type"), await request.body())
                if isinstance(data, list):
                    return await self.batch(request, data, media)
                params = from_mapping(data)
            else:
                raise HttpError(405, "GraphQL is served over GET and POST", {"Allow": "GET, POST"})
            params, result = await self.execute(request, params)
        except HttpError as refusal:
            return self.refuse(refusal, media or JSON)
        except PersistedQueryNotFound:
            payload = self.error_payload(NOT_FOUND_MESSAGE, NOT_FOUND_CODE)
            return self.respond(payload, 404 if media == GRAPHQL_RESPONSE else 200, media or JSON)
        return self.answer(request, params, result, media)

    def answer(
        self, request: Request, params: GraphQLParams, result: ExecutionResult, media: str
    ) -> Response:
        """The executed operation's response: status by media type, then cache headers."""
        payload, request_error = self.payload(result)
        status = self.status(payload, request_error) if media == GRAPHQL_RESPONSE else 200
        headers = {"Cache-Control": NO_STORE}
        waits = [
            e["extensions"]["retryAfter"]
            for e in payload.get("errors", ())
            if "retryAfter" in e["extensions"]
        ]
        if waits:
            # Throttled logins: HTTP clients and proxies read the wait without parsing the body.
            headers["Retry-After"] = str(max(waits))
        if status == 401:
            headers["WWW-Authenticate"] = bearer_challenge(request.headers.get("authorization"))
        if "errors" in payload or params.query is None:
            return self.respond(payload, status, media, headers)
        policy = self.policies.policy(params.query, params.operation_name)
        headers["Cache-Control"] = policy.header(anonymous="authorization" not in request.headers)
        body = orjson.dumps(payload)
        if headers["Cache-Control"] == NO_STORE:
            return self.respond_bytes(body, status, media, headers)
        headers["ETag"] = tag = etag(body)
        if request.method == "GET" and matches(request.headers.get("if-none-match"), tag):
            return Response(status_code=304, headers={**headers, "Vary": VARY})
        return self.respond_bytes(body, status, media, headers)

    async def execute(self, request: Request, params: GraphQLParams) -> tuple[GraphQLParams, ExecutionResult]:
        """Runs the operation, its query first looked up by hash when it is a persisted one."""
        info = current_request.get()
        if info is not None:  # until RecordOperation reads it from the document
            info.operation_name = params.operation_name
            info.statements.limit = self.settings.limits.max_statements * RUNTIME_ALLOWANCE
        resolved = await self.persisted.resolve(params)
        return await self.execute_resolved(request, *resolved)

    async def execute_resolved(
        self, request: Request, params: GraphQLParams, register: str | None
    ) -> tuple[GraphQLParams, ExecutionResult]:
        result = await self.run(request, params)
        if register is not None and params.query is not None and _validated(result):
            await self.persisted.remember(register, params.query)
        return params, result

    async def run(self, request: Request, params: GraphQLParams) -> ExecutionResult:
        if not params.query:
            raise HttpError(400, "No GraphQL query found in the request")
        get = request.method == "GET"
        try:
            return await self.schema.execute(
                params.query,
                variable_values=params.variables,
                context_value=self.make_context(request),
                operation_name=params.operation_name,
                allowed_operation_types=OVER_GET if get else OVER_POST,
                operation_extensions=params.extensions,
            )
        except InvalidOperationTypeError as exc:
            if get and exc.operation_type == OperationType.MUTATION:
                message = "Mutations are not accepted over GET: send them with POST"
                raise HttpError(405, message, {"Allow": "POST"}) from None
            raise HttpError(400, "Subscriptions are not supported") from None
        except CannotGetOperationTypeError as exc:
            raise HttpError(400, exc.as_http_error_reason()) from None
        except MissingQueryError:
            raise HttpError(400, "No GraphQL query found in the request") from None

    async def batch(self, request: Request, items: list[Any], media: str) -> Response:
        limit = self.settings.limits.max_batch
        if limit == 0:
            raise HttpError(400, "Batching is turned off: send one operation per request")
        if not items or len(items) > limit:
            message = f"A batch holds 1 to {limit} operations (VIDEOLIB_MAX_BATCH), got {len(items)}"
            raise HttpError(400, message)

        async def resolve(item: Any) -> tuple[GraphQLParams, str | None] | dict[str, Any]:
            try:
                return await self.persisted.resolve(from_mapping(item))
            except HttpError as refusal:
                return self.error_payload(refusal.message)
            except PersistedQueryNotFound:
                return self.error_payload(NOT_FOUND_MESSAGE, NOT_FOUND_CODE)

        resolved = await asyncio.gather(*(resolve(item) for item in items))
        # A batch is one request: its writes are counted together, and refused together before
        # any of them runs. Each operation has the statement budget it would have alone.
        parsed = [r[0] for r in resolved if isinstance(r, tuple)]
        writes = batch_writes(self.schema._schema, parsed, self.settings)
        refused = write_refusals(writes, self.settings.limits)
        if refused:
            raise HttpError(400, " ".join(refused))
        info = current_request.get()
        if info is not None:
            info.statements.limit = self.settings.limits.max_statements * RUNTIME_ALLOWANCE * len(items)

        async def one(item: tuple[GraphQLParams, str | None] | dict[str, Any]) -> dict[str, Any]:
            if isinstance(item, dict):
                return item
            try:
                _, result = await self.execute_resolved(request, *item)
            except HttpError as refusal:
                return self.error_payload(refusal.message)
            return self.payload(result)[0]

        # Each operation gets its own context (viewer, loaders), as if sent alone.
        payloads = await asyncio.gather(*(one(item) for item in resolved))
        return self.respond(list(payloads), 200, media)

    def payload(self, result: ExecutionResult) -> tuple[dict[str, Any], bool]:
        """The response body, and whether it answers a request error (nothing was executed)."""
        errors: list[GraphQLError] = list(result.errors or ())
        request_error = result.data is None and bool(errors) and all(e.path is None for e in errors)
        payload: dict[str, Any] = {} if request_error else {"data": result.data}
        if errors:
            payload["errors"] = [e.formatted for e in errors]
            with_codes(payload)
            self.note_errors(payload["errors"])
        if result.extensions:
            payload["extensions"] = result.extensions
        return payload, request_error

    def note_errors(self, errors: list[dict[str, Any]]) -> None:
        info = current_request.get()
        for error in errors:
            code = error["extensions"]["code"]
            if info is not None:
                info.error_codes.append(code)
                if code == "INTERNAL_SERVER_ERROR":
                    # The id finds the logged trace; the client gets nothing else about it.
                    error["extensions"]["requestId"] = info.request_id

    def error_payload(self, message: str, code: str = "BAD_USER_INPUT") -> dict[str, Any]:
        payload: dict[str, Any] = {"errors": [{"message": message, "extensions": {"code": code}}]}
        self.note_errors(payload["errors"])
        return payload

    @staticmethod
    def status(payload: dict[str, Any], request_error: bool) -> int:
        if not request_error:
            return 200
        extensions = payload["errors"][0]["extensions"]
        if extensions["code"] == "INTERNAL_SERVER_ERROR" and "retryAfter" in extensions:
            return 503  # busy (resolvers/errors.py ServerBusy): ours, but not broken
        return REQUEST_ERROR_STATUS.get(extensions["code"], 400)

    def refuse(self, refusal: HttpError, media: str) -> Response:
        return self.respond(self.error_payload(refusal.message), refusal.status, media, refusal.headers)

    @classmethod
    def respond(
        cls, payload: Any, status: int, media: str, headers: dict[str, str] | None = None
    ) -> Response:
        return cls.respond_bytes(orjson.dumps(payload), status, media, headers or {"Cache-Control": NO_STORE})

    @staticmethod
    def respond_bytes(body: bytes, status: int, media: str, headers: dict[str, str]) -> Response:
        response = Response(body, status, headers=headers, media_type=media)
        response.headers["Vary"] = VARY
        return response


def batch_writes(schema: GraphQLSchema, operations: list[GraphQLParams], settings: Settings) -> Measure:
    """The mutation fields of a whole batch, as one measure. A document that does not parse, or
    names no operation it holds, counts nothing here: it fails on its own when it runs."""
    total = Measure()
    for index, params in enumerate(operations):
        if not params.query:
            continue
        try:
            document = parse(params.query, max_tokens=settings.limits.max_tokens)
        except GraphQLError:
            continue
        measures = measure_document(schema, document)
        name = params.operation_name
        if name is None and len(measures) == 1:
            name = next(iter(measures))
        measure = measures.get(name)
        if measure is not None:
            # Response keys are per operation: the same alias in two operations is two writes.
            keyed = frozenset((kind, f"{index}:{key}") for kind, key in measure.writes)
            total = total + Measure(writes=keyed)
    return total


def _validated(result: ExecutionResult) -> bool:
    """Only documents that reached execution are remembered: strawberry answers a document that
    does not parse or validate (unknown fields, over a cost limit, several operations unnamed),
    or a request refused before it runs (a bad token), with a PreExecutionError. What went
    wrong while running (NOT_FOUND, bad variables) leaves the document itself good to keep."""
    return not isinstance(result, PreExecutionError)


def bearer_challenge(authorization: str | None) -> str:
    """The WWW-Authenticate of a 401 (RFC 6750, section 3): a Bearer token that was sent and is
    bad, expired or revoked is invalid_token; a header of another scheme (or a bare "Bearer") sent
    no token at all, and RFC 6750 gives no error code for that."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return 'Bearer error="invalid_token", error_description="the token is invalid, expired or revoked"'
    return "Bearer"
