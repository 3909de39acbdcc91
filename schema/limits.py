"""Limits on what one request may cost, checked before anything runs.

One rule measures each operation's depth, aliases and estimated size, and refuses it with
BAD_USER_INPUT before it touches the database when one is over its limit (resolvers/config.py
Limits, each set by an environment variable).

- Cost: nested pages multiply. `categories { videos(first: 100) { edges { node { category {
  videos(first: 100) ... } } } } }` asks for millions of objects in a few lines, so each field is
  weighed by the list sizes above it.
- Every measure is taken once per fragment and reused. A document that spreads a fragment twice,
  which spreads another twice, and so on, describes 2^n fields in a few hundred bytes; walking
  each spread again (as strawberry's depth and alias limiters do) hangs validation for minutes.

Introspection fields count too: `__schema { types { fields { type { fields ... } } } }` nests
without end. Their depth has its own allowance, since GraphiQL's introspection query nests
about 13 deep through `ofType`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

from resolvers.config import Limits

# Assumed list sizes: a page's `first` when it is a literal, the largest allowed when it is a
# variable (validation runs before variables are known), the default when it is absent.
PAGED = {"videos": (20, 100), "continueWatching": (10, 50)}
CATEGORIES_ESTIMATE = 50
REACTION_TYPES = 6
INTROSPECTION_LISTS = {
    "types": 50,
    "fields": 10,
    "args": 10,
    "inputFields": 10,
    "enumValues": 10,
    "interfaces": 5,
    "possibleTypes": 10,
    "directives": 10,
}
INTROSPECTION_DEPTH = 20


def _list_size(field: FieldNode, introspection: bool) -> int:
    name = field.name.value
    if introspection:
        return INTROSPECTION_LISTS.get(name, 1)
    if name in PAGED:
        default, largest = PAGED[name]
        for arg in field.arguments or ():
            if arg.name.value == "first":
                if isinstance(arg.value, IntValueNode):
                    return max(0, min(int(arg.value.value), largest))
                return largest
        return default
    if name == "categories":
        return CATEGORIES_ESTIMATE
    if name == "counts":
        return REACTION_TYPES
    return 1


@dataclass(frozen=True)
class Measure:
    depth: int = 0  # of fields outside introspection
    introspection_depth: int = 0
    aliases: int = 0
    cost: int = 0  # fields returned, per instance of the enclosing selection

    def __add__(self, other: Measure) -> Measure:
        return Measure(
            max(self.depth, other.depth),
            max(self.introspection_depth, other.introspection_depth),
            self.aliases + other.aliases,
            self.cost + other.cost,
        )


class RequestLimitRule(ValidationRule):
    limits = Limits()

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.fragments: dict[str, Measure] = {}
        self.measuring: set[str] = set()

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        measure = self._measure(node.selection_set, introspection=False)
        limits = self.limits
        name = node.name.value if node.name else "anonymous"
        if measure.depth > limits.max_depth:
            self._refuse(f"'{name}' exceeds maximum operation depth of {limits.max_depth}", node)
        elif measure.introspection_depth > INTROSPECTION_DEPTH:
            self._refuse(f"'{name}' exceeds maximum introspection depth of {INTROSPECTION_DEPTH}", node)
        if measure.aliases > limits.max_aliases:
            self._refuse(f"{measure.aliases} aliases found. Allowed: {limits.max_aliases}", node)
        if measure.cost > limits.max_cost:
            self._refuse(
                f"This query could return about {measure.cost:,} fields, more than the limit of "
                f"{limits.max_cost:,}: ask for smaller pages (first) or nest fewer lists.",
                node,
            )

    def _refuse(self, message: str, node: OperationDefinitionNode) -> None:
        self.report_error(GraphQLError(message, node))

    def _measure(self, selection_set: SelectionSetNode | None, introspection: bool) -> Measure:
        total = Measure()
        if selection_set is None:
            return total
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total = total + self._field(selection, introspection)
            elif isinstance(selection, InlineFragmentNode):
                total = total + self._measure(selection.selection_set, introspection)
            elif isinstance(selection, FragmentSpreadNode):
                total = total + self._fragment(selection.name.value, introspection)
        return total

    def _field(self, field: FieldNode, introspection: bool) -> Measure:
        name = field.name.value
        inside = introspection or (name.startswith("__") and name != "__typename")
        alias = 1 if field.alias else 0
        if field.selection_set is None:
            return Measure(aliases=alias, cost=1)
        child = self._measure(field.selection_set, inside)
        size = _list_size(field, inside)
        return Measure(
            depth=child.depth if inside else child.depth + 1,
            introspection_depth=child.introspection_depth + 1 if inside else child.introspection_depth,
            aliases=alias + child.aliases,
            # Capped so that a hostile document cannot make Python build huge integers.
            cost=min(1 + size * child.cost, 1 << 62),
        )

    def _fragment(self, name: str, introspection: bool) -> Measure:
        key = f"{introspection}:{name}"
        if key in self.fragments:
            return self.fragments[key]
        fragment = self.context.get_fragment(name)
        if fragment is None or key in self.measuring:  # unknown or cyclic: another rule's error
            return Measure()
        self.measuring.add(key)
        measure = self._measure(fragment.selection_set, introspection)
        self.measuring.discard(key)
        self.fragments[key] = measure
        return measure


def request_limits(limits: Limits) -> type[RequestLimitRule]:
    """The rule with its limits; made once per schema, since validation caches by rule class."""
    return type("RequestLimitRule", (RequestLimitRule,), {"limits": limits})


# Each costs an argon2 hash (tens of MiB and tens of milliseconds of CPU, on purpose).
PASSWORD_FIELDS = frozenset({"register", "login"})


class OneSignInPerRequest(ValidationRule):
    """At most one register or login per operation: aliases must not multiply password hashing."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        count = sum(
            1
            for selection in node.selection_set.selections
            if isinstance(selection, FieldNode) and selection.name.value in PASSWORD_FIELDS
        )
        if count > 1:
            self.report_error(
                GraphQLError("Sign in or register once per request: send one register or login.", node)
            )
