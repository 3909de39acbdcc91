"""Every part of the schema a client can see in GraphiQL's docs carries a description.

Walks the built graphql-core schema (what GraphiQL's introspection reads): every named type,
every field and its arguments, every input field and every enum value, plus custom directives.
GraphQL's own parts (introspection types, built-in scalars and directives) are described by
graphql-core and are skipped.
"""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    specified_directives,
    specified_scalar_types,
)

from schema.api import schema

GRAPHQL_SCHEMA: GraphQLSchema = schema._schema

# Query and Mutation are merged in schema/api.py with strawberry.tools.merge_types, which takes no
# description; they get theirs where they are built (see test_root_types_are_described).
ROOT_TYPES = frozenset({"Query", "Mutation"})


def _described(description: str | None) -> bool:
    return bool(description and description.strip())


def _own_types() -> list[GraphQLNamedType]:
    return [
        t
        for name, t in sorted(GRAPHQL_SCHEMA.type_map.items())
        if not name.startswith("__") and name not in specified_scalar_types
    ]


def undescribed(schema: GraphQLSchema, skip_types: frozenset[str] = frozenset()) -> list[str]:
    """Coordinates (Type, Type.field, Type.field(arg:), Enum.VALUE, @directive(arg:)) of every
    part of `schema` without a non-empty description."""
    missing: list[str] = []
    for name, named in sorted(schema.type_map.items()):
        if name.startswith("__") or name in specified_scalar_types:
            continue
        if name not in skip_types and not _described(named.description):
            missing.append(name)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in named.fields.items():
                if not _described(field.description):
                    missing.append(f"{name}.{field_name}")
                for arg_name, arg in field.args.items():
                    if not _described(arg.description):
                        missing.append(f"{name}.{field_name}({arg_name}:)")
        elif isinstance(named, GraphQLInputObjectType):
            for field_name, input_field in named.fields.items():
                if not _described(input_field.description):
                    missing.append(f"{name}.{field_name}")
        elif isinstance(named, GraphQLEnumType):
            for value_name, value in named.values.items():
                if not _described(value.description):
                    missing.append(f"{name}.{value_name}")
    builtin_directives = {d.name for d in specified_directives}
    for directive in schema.directives:
        if directive.name in builtin_directives:
            continue
        if not _described(directive.description):
            missing.append(f"@{directive.name}")
        for arg_name, arg in directive.args.items():
            if not _described(arg.description):
                missing.append(f"@{directive.name}({arg_name}:)")
    return missing


def test_every_type_field_argument_input_field_and_enum_value_is_described() -> None:
    assert undescribed(GRAPHQL_SCHEMA, skip_types=ROOT_TYPES) == []


def test_root_types_are_described() -> None:
    types = GRAPHQL_SCHEMA.type_map
    assert [name for name in sorted(ROOT_TYPES) if not _described(types[name].description)] == []


def test_the_walk_sees_the_whole_schema() -> None:
    """The check above is only as good as its walk: it reaches every kind of part, and it reports
    an undescribed one by its coordinate."""
    names = {t.name for t in _own_types()}
    assert {"Video", "Node", "DateTime", "VideoOrder", "VideoFilter", "Query", "Mutation"} <= names
    assert "String" not in names and "__Schema" not in names

    from graphql import build_schema

    bare = build_schema(
        """
        "Q" type Query { "f" f(a: Int, "b" b: Int): E  g: Int }
        enum E { "x" X Y }
        input I { "k" k: Int  l: Int }
        scalar S
        directive @d(x: Int) on FIELD
        """
    )
    assert undescribed(bare) == ["E", "E.Y", "I", "I.l", "Query.f(a:)", "Query.g", "S", "@d", "@d(x:)"]
