"""Limits on what one request may cost, checked before anything runs.

One rule measures each operation and refuses it with BAD_USER_INPUT, before it touches the
database, when one measure is over its limit (resolvers/config.py Limits, each set by an
environment variable):

- Depth and aliases.
- Cost: nested pages multiply. `categories { videos(first: 100) { edges { node { category {
  videos(first: 100) ... } } } } }` asks for millions of objects in a few lines, so each field is
  weighed by the list sizes above it.
- Statements: what the operation costs the database. Every field that loads (a page, a count, a
  lookup, each relation of a video) is at least one statement wherever it is written, and a
  search scans the catalogue, so it weighs SEARCH_WEIGHT, as does a page of the whole catalogue.
  Fields inside lists are not multiplied: siblings share one batched statement
  (resolvers/loaders.py). The estimate is an upper bound of what runs, which
  tests/test_request_cost.py checks against the statements counted on every screen and on fuzzed
  operations; the limit is enforced as statements run, too (models/database.py StatementBudget).
- Writes: register and login hash a password (argon2, on purpose slow), so one per request; the
  other mutations are capped per kind. Counted through inline and named fragments, and over a
  whole HTTP batch (schema/http/view.py), so aliases cannot multiply them.

Every measure is taken once per fragment and reused. A document that spreads a fragment twice,
which spreads another twice, and so on, describes 2^n fields in a few hundred bytes; walking each
spread again (as strawberry's depth and alias limiters do) hangs validation for minutes.

Introspection fields count too: `__schema { types { fields { type { fields ... } } } }` nests
without end. Their depth has its own allowance, since GraphiQL's introspection query nests about
13 deep through `ofType`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    NullValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValidationContext,
    ValidationRule,
    ValueNode,
    get_named_type,
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
CAP = 1 << 62

# Statements a field may run, by (type, field), each time it is written. Video's relations are
# loaded per list of videos; a reaction summary is the counts and the viewer's own reaction.
STATEMENTS: Mapping[tuple[str, str], int] = {
    ("Query", "node"): 1,
    ("Query", "video"): 1,
    ("Query", "heroVideo"): 1,
    ("Query", "categories"): 1,
    ("Query", "category"): 1,
    ("Query", "continueWatching"): 1,
    ("Query", "videos"): 1,
    ("VideoCategory", "videos"): 1,
    ("VideoCategory", "videoCount"): 1,
    ("VideoConnection", "totalCount"): 1,
    ("Video", "reactions"): 2,
    ("Video", "viewerProgress"): 1,
}
# Looking up the caller's token, whether or not the operation reads `me`.
AUTHENTICATION_STATEMENTS = 1
# A search (filter.search) is a substring match on every title and description: measured on the
# benchmark catalogue (10,000 videos), one scan costs MariaDB about five indexed page statements
# (make bench-worst). A page of the whole catalogue (Query.videos without filter.categorySlug)
# weighs as much: for an admin, who sees drafts too, no index gives its order, so MariaDB sorts
# every video (about 50 ms in title order). The estimate cannot know the caller, so members pay
# the same, though their pages walk an index.
SEARCH_WEIGHT = 5

# Mutation fields by kind, and the statements each may run besides the reads its answer selects:
# its checks, its writes and the read of the row it answers with (measured: 1 to 4).
SIGN_IN_FIELDS = frozenset({"register", "login"})
VIEWER_WRITES = frozenset({"logout", "saveProgress", "clearProgress", "react", "unreact", "recordView"})
ADMIN_WRITES = frozenset(
    {"createCategory", "updateCategory", "deleteCategory", "createVideo", "updateVideo", "deleteVideo"}
)
WRITE_STATEMENTS = 5
# As statements run, a request may use this many times its estimate limit: a transaction retried
# after a deadlock runs its statements again, and must not fail a request the estimate admitted.
RUNTIME_ALLOWANCE = 2


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


def _filter_entry(field: FieldNode, key: str) -> ValueNode | None:
    """What a videos field's `filter` gives for `key`: the literal's value node, None when it
    gives nothing, or the whole filter's variable, which may hold anything."""
    for arg in field.arguments or ():
        if arg.name.value == "filter":
            if isinstance(arg.value, NullValueNode):
                return None
            if not isinstance(arg.value, ObjectValueNode):
                return arg.value
            return next((item.value for item in arg.value.fields if item.name.value == key), None)
    return None


def _searches(field: FieldNode) -> bool:
    """Whether a videos field may search: a non-blank `search`, or one from a variable."""
    given = _filter_entry(field, "search")
    if given is None or isinstance(given, NullValueNode):
        return False
    return not (isinstance(given, StringValueNode) and not given.value.strip())


def _one_category(field: FieldNode) -> bool:
    """Whether a videos field is pinned to one category by a literal filter.categorySlug (a
    variable may be null)."""
    return isinstance(_filter_entry(field, "categorySlug"), StringValueNode)


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


@dataclass(frozen=True)
class Measure:
    depth: int = 0  # of fields outside introspection
    introspection_depth: int = 0
    aliases: int = 0
    cost: int = 0  # fields returned, per instance of the enclosing selection
    statements: int = 0
    # Root mutation fields by kind, as (kind, response key): fields that merge run once.
    writes: frozenset[tuple[str, str]] = frozenset()

    def __add__(self, other: Measure) -> Measure:
        return Measure(
            max(self.depth, other.depth),
            max(self.introspection_depth, other.introspection_depth),
            # Capped so that a fragment bomb cannot make Python build huge integers.
            min(self.aliases + other.aliases, CAP),
            min(self.cost + other.cost, CAP),
            min(self.statements + other.statements, CAP),
            self.writes | other.writes,
        )

    def count(self, kind: str) -> int:
        return sum(1 for k, _ in self.writes if k == kind)


def _kind(field_name: str) -> str | None:
    if field_name in SIGN_IN_FIELDS:
        return "sign_in"
    if field_name in VIEWER_WRITES:
        return "viewer"
    if field_name in ADMIN_WRITES:
        return "admin"
    return None


class DocumentMeasure:
    """Measures operations of one document against a schema, each fragment once."""

    def __init__(self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.schema = schema
        self.fragment_nodes = fragments
        self.fragments: dict[tuple[bool, bool, str], Measure] = {}
        self.measuring: set[tuple[bool, bool, str]] = set()

    def operation(self, node: OperationDefinitionNode) -> Measure:
        root = self.schema.get_root_type(node.operation)
        measure = self._measure(node.selection_set, root, introspection=False, searching=False)
        cost = measure.statements + AUTHENTICATION_STATEMENTS + WRITE_STATEMENTS * len(measure.writes)
        return Measure(
            measure.depth, measure.introspection_depth, measure.aliases, measure.cost, cost, measure.writes
        )

    def _measure(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType | None,
        introspection: bool,
        searching: bool,
    ) -> Measure:
        total = Measure()
        if selection_set is None:
            return total
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total = total + self._field(selection, parent, introspection, searching)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total = total + self._measure(selection.selection_set, inner, introspection, searching)
            elif isinstance(selection, FragmentSpreadNode):
                total = total + self._fragment(selection.name.value, introspection, searching)
        return total

    def _field(
        self, field: FieldNode, parent: GraphQLNamedType | None, introspection: bool, searching: bool
    ) -> Measure:
        name = field.name.value
        inside = introspection or (name.startswith("__") and name != "__typename")
        alias = 1 if field.alias else 0
        parent_name = parent.name if parent is not None else ""
        statements = 0 if inside else STATEMENTS.get((parent_name, name), 0)
        if (parent_name, name) == ("Query", "videos"):
            searching = _searches(field)  # its connection's totalCount scans too
            if searching or not _one_category(field):
                statements *= SEARCH_WEIGHT
        elif (parent_name, name) == ("VideoConnection", "totalCount") and searching:
            statements *= SEARCH_WEIGHT
        writes: frozenset[tuple[str, str]] = frozenset()
        if isinstance(parent, GraphQLObjectType) and parent is self.schema.mutation_type:
            kind = _kind(name)
            if kind is not None:
                writes = frozenset({(kind, (field.alias or field.name).value)})
        if field.selection_set is None:
            return Measure(aliases=alias, cost=1, statements=statements, writes=writes)
        child_type: GraphQLNamedType | None = None
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType) and name in parent.fields:
            child_type = get_named_type(parent.fields[name].type)
        child = self._measure(field.selection_set, child_type, inside, searching)
        size = _list_size(field, inside)
        return Measure(
            depth=child.depth if inside else child.depth + 1,
            introspection_depth=child.introspection_depth + 1 if inside else child.introspection_depth,
            aliases=alias + child.aliases,
            cost=min(1 + size * child.cost, CAP),
            statements=statements + child.statements,
            writes=writes,
        )

    def _fragment(self, name: str, introspection: bool, searching: bool) -> Measure:
        key = (introspection, searching, name)
        if key in self.fragments:
            return self.fragments[key]
        fragment = self.fragment_nodes.get(name)
        if fragment is None or key in self.measuring:  # unknown or cyclic: another rule's error
            return Measure()
        self.measuring.add(key)
        parent = self.schema.get_type(fragment.type_condition.name.value)
        measure = self._measure(fragment.selection_set, parent, introspection, searching)
        self.measuring.discard(key)
        self.fragments[key] = measure
        return measure


def measure_document(schema: GraphQLSchema, document: DocumentNode) -> dict[str | None, Measure]:
    """Every operation of a document, by name (for the HTTP batch check and the tests)."""
    measurer = DocumentMeasure(schema, _fragments(document))
    return {
        (d.name.value if d.name else None): measurer.operation(d)
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    }


def refusals(measure: Measure, limits: Limits, name: str | None) -> list[str]:
    """Why an operation (or a whole batch, measured together) is refused; empty: it may run."""
    this = f"Operation '{name}'" if name else "This operation"
    # The writes first: the most specific reason, and the one a client most needs to read.
    found = write_refusals(measure, limits)
    if measure.depth > limits.max_depth:
        found.append(
            f"{this} nests fields {measure.depth} deep, more than the limit of {limits.max_depth} "
            "(VIDEOLIB_MAX_DEPTH): select fewer nested levels."
        )
    elif measure.introspection_depth > INTROSPECTION_DEPTH:
        found.append(f"{this} exceeds the maximum introspection depth of {INTROSPECTION_DEPTH}.")
    if measure.aliases > limits.max_aliases:
        found.append(
            f"{this} uses {measure.aliases} aliases, more than the limit of {limits.max_aliases} "
            "(VIDEOLIB_MAX_ALIASES)."
        )
    if measure.cost > limits.max_cost:
        found.append(
            f"This query could return about {measure.cost:,} fields, more than the limit of "
            f"{limits.max_cost:,}: ask for smaller pages (first) or nest fewer lists."
        )
    if measure.statements > limits.max_statements:
        found.append(
            f"{this} could run about {measure.statements} SQL statements (a search counts as "
            f"{SEARCH_WEIGHT}), more than the limit of {limits.max_statements} (VIDEOLIB_MAX_STATEMENTS): "
            "split it into several requests, or ask for fewer lists, counts and searches."
        )
    return found


def write_refusals(measure: Measure, limits: Limits) -> list[str]:
    found: list[str] = []
    if measure.count("sign_in") > 1:
        found.append("Sign in or register once per request: send one register or login.")
    if measure.count("viewer") > limits.max_viewer_writes:
        found.append(
            f"At most {limits.max_viewer_writes} of saveProgress, clearProgress, react, unreact, recordView "
            f"and logout per request (VIDEOLIB_MAX_VIEWER_WRITES), got {measure.count('viewer')}."
        )
    if measure.count("admin") > limits.max_admin_writes:
        found.append(
            f"At most {limits.max_admin_writes} catalogue changes per request (VIDEOLIB_MAX_ADMIN_WRITES), "
            f"got {measure.count('admin')}."
        )
    return found


class RequestLimitRule(ValidationRule):
    limits = Limits()

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.measurer = DocumentMeasure(context.schema, _fragments(context.document))

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        measure = self.measurer.operation(node)
        for message in refusals(measure, self.limits, node.name.value if node.name else None):
            self.report_error(GraphQLError(message, node))


def request_limits(limits: Limits) -> type[RequestLimitRule]:
    """The rule with its limits; made once per schema, since validation caches by rule class."""
    return type("RequestLimitRule", (RequestLimitRule,), {"limits": limits})
