"""The one place where the domain Query and Mutation parts are merged into the schema."""

from __future__ import annotations

from typing import Any

import orjson
import strawberry
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.printer import print_schema as _print
from strawberry.tools import merge_types

from schema.categories import CategoryQuery

Query = merge_types("Query", (CategoryQuery,))

schema = strawberry.Schema(
    query=Query,
    # Factories, not instances: strawberry builds fresh extensions for every request.
    extensions=[ParserCache, ValidationCache],
)


def print_schema() -> str:
    return _print(schema) + "\n"


class VideolibGraphQL(GraphQL):
    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


def build_graphql_app(settings: Any, db: Any) -> VideolibGraphQL:
    return VideolibGraphQL(schema, graphql_ide="graphiql")
