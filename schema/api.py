"""The one place where the domain Query and Mutation parts are merged into the schema,
and where it is served over HTTP (schema/http/)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError, NoSchemaIntrospectionCustomRule, OperationDefinitionNode
from starlette.requests import Request
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.printer import print_schema as _print
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from models.database import DatabaseBusy
from resolvers.accounts.throttle import LoginThrottle
from resolvers.config import Limits, Settings
from resolvers.context import Context
from resolvers.errors import ApiError, InternalError, ServerBusy
from schema.accounts import AccountQuery
from schema.accounts import Mutation as AccountMutation
from schema.categories import CategoryQuery
from schema.categories import Mutation as CategoryMutation
from schema.errors import ContractErrors, log_unexpected
from schema.execution.executor import CompiledExecutionContext
from schema.http.graphiql import page_html
from schema.http.persisted import PersistedQueries
from schema.http.requestinfo import current_request
from schema.http.view import GraphQLEndpoint
from schema.limits import request_limits
from schema.nodes import NodeQuery
from schema.progress import Mutation as ProgressMutation
from schema.progress import ProgressQuery
from schema.reactions import Mutation as ReactionMutation
from schema.scalars import SCALAR_OVERRIDES
from schema.videos import Mutation as VideoMutation
from schema.videos import VideoQuery
from schema.views import Mutation as ViewMutation

DEFAULT_LIMITS = Limits()

Query = merge_types("Query", (NodeQuery, AccountQuery, CategoryQuery, VideoQuery, ProgressQuery))

Mutation = merge_types(
    "Mutation",
    (AccountMutation, ProgressMutation, ReactionMutation, ViewMutation, CategoryMutation, VideoMutation),
)
# merge_types takes no description; GraphiQL's docs open on these two.
Query.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    "Reads: the catalogue (categories, videos, the hero) for everyone, and the caller's own account "
    "and progress when signed in. Anonymous callers and members see only active categories and the "
    "published videos in them."
)
Mutation.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    "Writes: signing in and out, the viewer's progress, reactions and views, and (admins only) the "
    "catalogue. Every mutation is all-or-nothing."
)

log = logging.getLogger("videolib")

CACHE_SIZE = 256


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
            except DatabaseBusy as exc:
                log.warning("no database connection came free to authenticate within %gs", exc.waited)
                raise ServerBusy() from exc
            except Exception as exc:  # the database, not the token: ours, logged, never shown
                log.exception("authentication failed")
                raise InternalError() from exc
        yield


class RecordOperation(SchemaExtension):
    """Names the operation in the access log and metrics, even when the client sent no
    operationName (strawberry reads it from the document)."""

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        info = current_request.get()
        if info is None:
            return
        execution = self.execution_context
        info.operation_name = execution.operation_name
        with contextlib.suppress(RuntimeError):  # the document did not parse
            info.operation_type = execution.operation_type.value


class NamedOperation(SchemaExtension):
    """A document with several operations must say which to run. (strawberry would quietly run the
    first; the GraphQL spec refuses.)"""

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        document = execution.graphql_document
        if document is not None and execution._provided_operation_name is None:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                raise GraphQLError("Must provide operationName: the document holds several operations.")
        yield


# Documents up to this many characters are kept parsed; larger ones are parsed again each time.
# The cache is bounded by count, and a parsed document holds about twice its text (graphql-core
# keeps every comment token): 256 padded 240 KB documents held 177 MiB per worker.
PARSER_CACHE_MAX_CHARS = 32 * 1024


class SmallDocumentParserCache(ParserCache):
    """strawberry's parser cache, for documents no client needs to pad: a real screen is a few KB."""

    def on_parse(self) -> Iterator[None]:
        if len(self.execution_context.query or "") <= PARSER_CACHE_MAX_CHARS:
            yield from super().on_parse()
        else:
            yield  # strawberry parses it, uncached


class VideolibSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Refusals (bad input, auth) are the client's business; only our failures are logged.
        log_unexpected(errors)


def validation_rules(limits: Limits, introspection: bool) -> list[type[ASTValidationRule]]:
    rules: list[type[ASTValidationRule]] = [request_limits(limits)]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return rules


def build_schema(
    limits: Limits = DEFAULT_LIMITS, introspection: bool = True, compiled: bool = True
) -> VideolibSchema:
    # Built once per app: the validation cache is keyed by the rule classes.
    rules = validation_rules(limits, introspection)
    return VideolibSchema(
        query=Query,
        mutation=Mutation,
        execution_context_class=CompiledExecutionContext if compiled else None,
        scalar_overrides=SCALAR_OVERRIDES,  # type: ignore[arg-type]
        # Classes and factories, never instances: strawberry builds fresh extensions per request.
        extensions=[
            ContractErrors,
            RecordOperation,
            NamedOperation,
            lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
            lambda: AddValidationRules(rules),
            lambda: SmallDocumentParserCache(maxsize=CACHE_SIZE),
            lambda: ValidationCache(maxsize=CACHE_SIZE),
            Authenticate,
        ],
    )


schema = build_schema()


def print_schema() -> str:
    return _print(schema) + "\n"


def build_graphql_app(settings: Settings, db: Any) -> GraphQLEndpoint:
    # One per app: failed logins are counted across requests.
    throttle = LoginThrottle(settings.limits)

    def make_context(request: Request) -> Context:
        return Context(request=request, settings=settings, db=db, throttle=throttle)

    default = settings.limits == DEFAULT_LIMITS and settings.introspection and settings.compiled_execution
    return GraphQLEndpoint(
        # Building a schema takes a while: the module's own serves the default settings.
        schema
        if default
        else build_schema(settings.limits, settings.introspection, settings.compiled_execution),
        settings,
        make_context,
        # GraphiQL cannot work without introspection, so it goes too.
        graphiql_html=page_html() if settings.introspection else None,
        persisted=PersistedQueries.for_settings(settings),
    )
