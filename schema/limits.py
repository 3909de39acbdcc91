"""Limits on what one request may cost, checked before anything runs.

Depth, aliases and tokens are capped by strawberry's own extensions (see schema/api.py). This rule
adds the one they miss: nested pages multiply. `categories { videos(first: 100) { edges { node {
category { videos(first: 100) ... } } } } }` asks for millions of objects in a few lines, so each
field is weighed by the list sizes above it, and a query whose estimate exceeds MAX_COST is
refused with BAD_USER_INPUT before it touches the database.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
)

MAX_COST = 250_000
# Assumed list sizes: a page's `first` when it is a literal, the largest allowed when it is a
# variable (validation runs before variables are known), the default when it is absent.
PAGED = {"videos": (20, 100), "continueWatching": (10, 50)}
CATEGORIES_ESTIMATE = 50
REACTION_TYPES = 6


def _list_size(field: FieldNode) -> int:
    name = field.name.value
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


class CostLimitRule(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        cost = self._cost(node.selection_set, 1, frozenset())
        if cost > MAX_COST:
            self.report_error(
                GraphQLError(
                    f"This query could return about {cost:,} fields, more than the limit of "
                    f"{MAX_COST:,}: ask for smaller pages (first) or nest fewer lists.",
                    node,
                )
            )

    def _cost(self, selection_set: SelectionSetNode | None, multiplier: int, seen: frozenset[str]) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += multiplier
                total += self._cost(selection.selection_set, multiplier * _list_size(selection), seen)
            elif isinstance(selection, InlineFragmentNode):
                total += self._cost(selection.selection_set, multiplier, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.context.get_fragment(name)
                if fragment is not None and name not in seen:  # cycles are another rule's error
                    total += self._cost(fragment.selection_set, multiplier, seen | {name})
            if total > MAX_COST * 10:  # no need to walk a hostile query to the end
                break
        return total


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
