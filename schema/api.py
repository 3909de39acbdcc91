"""The one place where the domain Query and Mutation parts are merged into the schema,
and where it is served over HTTP."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
import strawberry
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.http import GraphQLHTTPResponse
from strawberry.printer import print_schema as _print
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult

from resolvers.config import Settings
from resolvers.context import Context
from resolvers.errors import ApiError, InternalError
from schema.accounts import AccountQuery
from schema.accounts import Mutation as AccountMutation
from schema.categories import CategoryQuery
from schema.categories import Mutation as CategoryMutation
from schema.errors import ContractErrors, log_unexpected, with_codes
from schema.limits import CostLimitRule, OneSignInPerRequest
from schema.nodes import NodeQuery
from schema.progress import Mutation as ProgressMutation
from schema.progress import ProgressQuery
from schema.reactions import Mutation as ReactionMutation
from schema.scalars import SCALAR_OVERRIDES
from schema.videos import Mutation as VideoMutation
from schema.videos import VideoQuery
from schema.views import Mutation as ViewMutation

Query = merge_types("Query", (NodeQuery, AccountQuery, CategoryQuery, VideoQuery, ProgressQuery))

Mutation = merge_types(
    "Mutation",
    (AccountMutation, ProgressMutation, ReactionMutation, ViewMutation, CategoryMutation, VideoMutation),
)

log = logging.getLogger("videolib")

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 5_000
CACHE_SIZE = 256
# Built once: the validation cache is keyed by the rule classes, and the limiters make new ones
# each time they are constructed.
VALIDATION_RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
    CostLimitRule,
    OneSignInPerRequest,
]


class Authenticate(SchemaExtension):
    """Loads the viewer before execution; a bad token fails the whole request as UNAUTHENTICATED.

    Here rather than in the context getter, so a request that does not parse or validate costs
    no statement.
    """

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context):
            try:
                await context.authenticate()
            except ApiError:
                raise
            except Exception as exc:  # the database, not the token: ours, logged, never shown
                log.exception("authentication failed")
                raise InternalError() from exc
        yield


class VideolibSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Refusals (bad input, auth) are the client's business; only our failures are logged.
        log_unexpected(errors)


schema = VideolibSchema(
    query=Query,
    mutation=Mutation,
    scalar_overrides=SCALAR_OVERRIDES,  # type: ignore[arg-type]
    # Classes and factories, never instances: strawberry builds fresh extensions per request.
    extensions=[
        ContractErrors,
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: AddValidationRules(VALIDATION_RULES),
        lambda: ParserCache(maxsize=CACHE_SIZE),
        lambda: ValidationCache(maxsize=CACHE_SIZE),
        Authenticate,
    ],
)


def print_schema() -> str:
    return _print(schema) + "\n"


class VideolibGraphQL(GraphQL[Context, None]):
    def __init__(self, settings: Settings, db: Any) -> None:
        super().__init__(schema, graphql_ide="graphiql", allow_queries_via_get=True)
        self.settings = settings
        self.db = db

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # strawberry answers a request it cannot read (bad JSON, no query, a mutation over GET)
        # in plain text; clients parse JSON errors with a code, whatever went wrong.
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as exc:
            error = {"message": exc.reason, "extensions": {"code": "BAD_USER_INPUT"}}
            body = orjson.dumps({"errors": [error]})
            response = Response(body, exc.status_code, media_type="application/json")
        await response(scope, receive, send)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        # Also reached by errors the view raises itself (a query that does not parse).
        return with_codes(await super().process_result(request, result))  # type: ignore[return-value, arg-type]

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        return Context(
            request=request if isinstance(request, Request) else None, settings=self.settings, db=self.db
        )


def build_graphql_app(settings: Settings, db: Any) -> VideolibGraphQL:
    return VideolibGraphQL(settings, db)
