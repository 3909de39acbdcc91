"""Turns one selection on one object type into a Python function that completes it.

graphql-core completes a value field by field: for each it builds a resolve info, calls the
resolver, checks the type, coerces the leaf and records the path, some 5-8 µs a field. Most of a
screen is plain data, already loaded: a video's attributes, its uploader, its reaction counts.
For such a selection, every decision graphql-core makes per field (which fields, in which order,
their types, nullability, the leaf coercion) depends only on the document, the type and the
variables used by @skip/@include, so it is made once here and written out as straight-line code:
one attribute read, one type check and one dict store per field.

The generated code keeps graphql-core's semantics to the letter, and tests/test_compiled_execution.py
proves it by running every query through both:
- fields in graphql-core's collection order (fragments merged, @skip/@include applied);
- the same leaf coercion (`coerce_output_value`, with shortcuts only where the value already is
  what it would return) and the same errors for values it cannot coerce;
- `is_type_of` checked on every object, as graphql-core does;
- a null or an error in a non-null position propagates to the nearest nullable field, which
  becomes null; the error is located at the failing field and collected once (`CollectedErrors`).

Anything else is not compiled: a field with its own resolver or arguments, an abstract type,
@defer/@stream, fragment arguments. The caller then lets graphql-core complete that object, and
the objects below it get their own chance to be compiled.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLError,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    Undefined,
    located_error,
)
from graphql.execution.collect_fields import FieldDetails, collect_subfields
from graphql.pyutils import Path, inspect, is_iterable

Completer = Callable[[Any, Any, Path], dict[str, Any]]

# Where strawberry keeps the StrawberryField behind a GraphQLField.
DEFINITION_BACKREF = "strawberry-definition"
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


class NotCompilable(Exception):
    """This selection needs graphql-core's general executor; the message says why."""


def _coerce_leaf(return_type: Any, value: Any) -> Any:
    """graphql-core's complete_leaf_value (and its complete_value's raising of an Exception value)."""
    if isinstance(value, Exception):
        raise value
    coerced = return_type.coerce_output_value(value)
    if coerced is Undefined or coerced is None:
        raise TypeError(
            f"Expected `{inspect(return_type)}.coerce_output_value({inspect(value)})` to return "
            f"non-nullable value, returned: {inspect(coerced)}"
        )
    return coerced


class _EnumOutput:
    """An enum's coerce_output_value, remembered per value: strawberry's scans the members."""

    def __init__(self, enum_type: GraphQLEnumType) -> None:
        self.enum_type = enum_type
        self.known: dict[Any, Any] = {}

    def __call__(self, value: Any) -> Any:
        # Keyed by type too: 1, 1.0 and True are equal as dict keys, not as enum values.
        key = (value.__class__, value)
        try:
            return self.known[key]
        except KeyError:
            coerced = _coerce_leaf(self.enum_type, value)
            if len(self.known) < 1000:  # an enum has few values; anything else is not remembered
                self.known[key] = coerced
            return coerced
        except TypeError:  # unhashable: never a valid enum value, let coercion say so
            return _coerce_leaf(self.enum_type, value)


def _not_iterable(value: Any, parent: str, field: str) -> Exception:
    if isinstance(value, Exception):
        return value
    return GraphQLError(f"Expected Iterable, but did not find one for field '{parent}.{field}'.")


def _invalid_type(return_type: GraphQLObjectType, value: Any, nodes: list[Any]) -> Exception:
    if isinstance(value, Exception):
        return value
    return GraphQLError(f"Expected value of type '{return_type}' but got: {inspect(value)}.", nodes)


class _Unit:
    """The source of one module of generated functions, with the objects they refer to."""

    def __init__(self, schema: GraphQLSchema, executor: Any) -> None:
        self.schema = schema
        self.executor = executor
        self.lines: list[str] = []
        self.names: dict[str, Any] = {
            "Path": Path,
            "located_error": located_error,
            "is_iterable": is_iterable,
            "not_iterable": _not_iterable,
            "invalid_type": _invalid_type,
            "coerce_leaf": _coerce_leaf,
            "Undefined": Undefined,
        }
        self.count = 0

    def const(self, value: Any, prefix: str = "k") -> str:
        self.count += 1
        name = f"{prefix}{self.count}"
        self.names[name] = value
        return name

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"


def compile_selection(
    executor: Any,
    return_type: GraphQLObjectType,
    field_details_list: list[FieldDetails],
    keep_source: bool = False,
) -> Completer:
    """A function (executor, value, path) -> completed dict, for this selection on this type.

    It raises what graphql-core's complete_object_value would: a located GraphQLError when a
    non-null field fails, an unlocated one when the value is not of the type.
    Raises NotCompilable when the selection needs the general executor.
    """
    unit = _Unit(executor.schema, executor)
    entry = _object_function(unit, return_type, field_details_list)
    source = "\n".join(unit.lines)
    namespace = dict(unit.names)
    exec(compile(source, f"<videolib plan {return_type.name}>", "exec"), namespace)
    completer: Completer = namespace[entry]
    if keep_source:  # for the tests' report of a difference; a large document's source is large
        completer.__doc__ = source
    return completer


def _subfields(unit: _Unit, return_type: GraphQLObjectType, fdl: list[FieldDetails]) -> dict[str, Any]:
    ex = unit.executor
    for details in fdl:
        if details.defer_usage is not None or details.fragment_variable_values is not None:
            raise NotCompilable("@defer or fragment arguments")
    grouped, new_defer_usages, _forbidden = collect_subfields(
        unit.schema,
        ex.fragments,
        ex.variable_values,
        ex.operation,
        return_type,
        fdl,
        ex.hide_suggestions,
    )
    if new_defer_usages:
        raise NotCompilable("@defer")
    return dict(grouped)


def _object_function(unit: _Unit, object_type: GraphQLObjectType, fdl: list[FieldDetails]) -> str:
    """Writes `def fN(ex, src, path)` completing this selection; returns its name."""
    grouped = _subfields(unit, object_type, fdl)
    name = unit.fresh("complete_")
    type_name = object_type.name
    body: list[str] = []
    for response_key, field_fdl in grouped.items():
        field_name = field_fdl[0].node.name.value
        if field_name == "__typename":
            body.append(f"    r[{response_key!r}] = {type_name!r}")
            continue
        field_def = object_type.fields.get(field_name)
        if field_def is None:  # graphql-core leaves unknown fields out
            continue
        body.extend(_field(unit, object_type, response_key, field_name, field_def, field_fdl))
    lines = [f"def {name}(ex, src, path):"]
    if object_type.is_type_of is not None:
        is_type_of = unit.const(object_type.is_type_of, "is_type_of")
        lines.append(f"    if not {is_type_of}(src, None):")
        lines.append(f"        raise invalid_type({unit.const(object_type)}, src, {unit.const(_nodes(fdl))})")
    else:
        lines.append("    if isinstance(src, Exception):")
        lines.append("        raise src")
    lines.append("    r = {}")
    lines.extend(body)
    lines.append("    return r")
    unit.lines.extend(lines)
    unit.lines.append("")
    return name


def _nodes(fdl: list[FieldDetails]) -> list[Any]:
    return [d.node for d in fdl]


def _field(
    unit: _Unit,
    parent: GraphQLObjectType,
    key: str,
    field_name: str,
    field_def: Any,
    fdl: list[FieldDetails],
) -> list[str]:
    strawberry_field = (field_def.extensions or {}).get(DEFINITION_BACKREF)
    resolve = field_def.resolve
    if (
        field_def.args
        or resolve is None
        or not getattr(resolve, "_is_default", False)
        or strawberry_field is None
    ):
        raise NotCompilable(f"{parent.name}.{field_name} has a resolver")
    python_name = strawberry_field.python_name
    plain_name = python_name.isidentifier() and not keyword.iskeyword(python_name)
    if strawberry_field.default_resolver is getattr and plain_name:
        read = f"src.{python_name}"
    else:
        read = f"{unit.const(strawberry_field.default_resolver, 'resolver')}(src, {python_name!r})"
    nodes = unit.const(_nodes(fdl), "nodes")
    path_of_field = f"Path(path, {key!r}, {parent.name!r})"
    context = _Context(unit, parent.name, field_name, nodes, fdl)
    completion = context.complete(field_def.type, "v", "c", path_of_field, 2)
    lines = ["    try:", f"        v = {read}"]
    lines.extend(completion)
    lines.append(f"        r[{key!r}] = c")
    lines.append("    except Exception as error:")
    lines.append(f"        error = located_error(error, {nodes}, {path_of_field}.as_list())")
    if isinstance(field_def.type, GraphQLNonNull):
        lines.append("        raise error from None")
    else:
        lines.append(f"        ex.collected_errors.add(error, {path_of_field})")
        lines.append(f"        r[{key!r}] = None")
    return lines


class _Context:
    """Writes the completion of one field's value, whatever its wrapping."""

    def __init__(self, unit: _Unit, parent: str, field_name: str, nodes: str, fdl: list[FieldDetails]):
        self.unit = unit
        self.parent = parent
        self.field_name = field_name
        self.nodes = nodes
        self.fdl = fdl

    def complete(self, gql_type: GraphQLOutputType, value: str, out: str, path: str, depth: int) -> list[str]:
        """Lines (indented `depth` levels) that set `out` to the completed `value`, or raise."""
        pad = "    " * depth
        # graphql-core treats Undefined as null.
        missing = f"{value} is None or {value} is Undefined"
        if isinstance(gql_type, GraphQLNonNull):
            message = f"Cannot return null for non-nullable field {self.parent}.{self.field_name}."
            return [
                f"{pad}if {missing}:",
                f"{pad}    raise TypeError({message!r})",
                *self._nonnull_value(gql_type.of_type, value, out, path, depth),
            ]
        return [
            f"{pad}if {missing}:",
            f"{pad}    {out} = None",
            f"{pad}else:",
            *self._nonnull_value(gql_type, value, out, path, depth + 1),
        ]

    def _nonnull_value(
        self, gql_type: GraphQLOutputType, value: str, out: str, path: str, depth: int
    ) -> list[str]:
        pad = "    " * depth
        unit = self.unit
        if isinstance(gql_type, GraphQLList):
            return self._list(gql_type, value, out, path, depth)
        if isinstance(gql_type, GraphQLScalarType):
            return [f"{pad}{out} = {self._scalar(gql_type, value)}"]
        if isinstance(gql_type, GraphQLEnumType):
            enum = unit.const(_EnumOutput(gql_type), "enum")
            return [f"{pad}{out} = {enum}({value})"]
        if isinstance(gql_type, GraphQLObjectType):
            function = _object_function(unit, gql_type, self.fdl)
            return [f"{pad}{out} = {function}(ex, {value}, {path})"]
        raise NotCompilable(f"{self.parent}.{self.field_name} returns an abstract type")

    def _scalar(self, scalar: GraphQLScalarType, value: str) -> str:
        coerce = f"coerce_leaf({self.unit.const(scalar, 'scalar')}, {value})"
        # Shortcuts only where coerce_output_value would hand the value back unchanged.
        if scalar is GraphQLString or scalar is GraphQLID:
            return f"{value} if {value}.__class__ is str else {coerce}"
        if scalar is GraphQLBoolean:
            return f"{value} if {value}.__class__ is bool else {coerce}"
        if scalar is GraphQLInt:
            return f"{value} if {value}.__class__ is int and {INT_MIN} <= {value} <= {INT_MAX} else {coerce}"
        return coerce

    def _list(self, gql_type: GraphQLList[Any], value: str, out: str, path: str, depth: int) -> list[str]:
        pad = "    " * depth
        unit = self.unit
        items, item, done, index, item_path, list_path = (
            unit.fresh(p) for p in ("items", "item", "done", "i", "item_path", "list_path")
        )
        item_type = gql_type.of_type
        not_iterable = f"not_iterable({value}, {self.parent!r}, {self.field_name!r})"
        lines = [
            f"{pad}if {value}.__class__ is not list and not is_iterable({value}):",
            f"{pad}    raise {not_iterable}",
            f"{pad}{list_path} = {path}",
            f"{pad}{items} = []",
            f"{pad}for {index}, {item} in enumerate({value}):",
            f"{pad}    {item_path} = Path({list_path}, {index}, None)",
            f"{pad}    try:",
        ]
        lines.extend(self.complete(item_type, item, done, item_path, depth + 2))
        lines.append(f"{pad}    except Exception as error:")
        lines.append(f"{pad}        error = located_error(error, {self.nodes}, {item_path}.as_list())")
        if isinstance(item_type, GraphQLNonNull):
            lines.append(f"{pad}        raise error from None")
        else:
            lines.append(f"{pad}        ex.collected_errors.add(error, {item_path})")
            lines.append(f"{pad}        {done} = None")
        lines.append(f"{pad}    {items}.append({done})")
        lines.append(f"{pad}{out} = {items}")
        return lines


__all__ = ["Completer", "NotCompilable", "compile_selection"]
