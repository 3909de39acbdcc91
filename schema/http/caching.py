"""Cache hints for public reads, and the Cache-Control, ETag and 304 they lead to.

Every field may carry a hint (HINTS): a max-age for what anyone may cache, or PRIVATE for what
depends on who asks. An operation's policy is the smallest max-age among its fields; a root field
without a hint is not cacheable, other fields without one take their parent's. The answer is
`public, max-age=N` only when it would be the same for everyone who could receive it: an
anonymous query (no Authorization header), every field public, no errors. Anything else is
`private, no-store`, and a mutation always is.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    parse,
    visit,
)

PRIVATE = -1
CATALOGUE_SECONDS = 60
SCHEMA_SECONDS = 300

# "Type.field" -> seconds anyone may cache it, or PRIVATE.
HINTS: dict[str, int] = {
    # The catalogue changes when an admin curates it; a minute of staleness is fine for a listing.
    "Query.categories": CATALOGUE_SECONDS,
    "Query.category": CATALOGUE_SECONDS,
    "Query.video": CATALOGUE_SECONDS,
    "Query.videos": CATALOGUE_SECONDS,
    "Query.heroVideo": CATALOGUE_SECONDS,
    "Query.node": CATALOGUE_SECONDS,
    # Counts move with every reaction.
    "ReactionSummary.total": 30,
    "ReactionCount.count": 30,
    # The schema changes only with a deployment.
    "Query.__schema": SCHEMA_SECONDS,
    "Query.__type": SCHEMA_SECONDS,
    # Who is asking.
    "Query.me": PRIVATE,
    "Query.continueWatching": PRIVATE,
    "ReactionSummary.viewerReaction": PRIVATE,
    "Video.viewerProgress": PRIVATE,
    "User.email": PRIVATE,
}

NO_STORE = "private, no-store"


@dataclass(frozen=True)
class Policy:
    max_age: int  # 0: not cacheable
    private: bool

    def header(self, anonymous: bool) -> str:
        if self.private or self.max_age <= 0 or not anonymous:
            return NO_STORE
        return f"public, max-age={self.max_age}"


class _Collector(Visitor):
    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.max_age: int | None = None
        self.private = False
        self.root_without_hint = False

    def enter_field(self, node: FieldNode, *_: object) -> None:
        parent = self.type_info.get_parent_type()
        if parent is None:
            return
        name = node.name.value
        if name == "__typename":
            return
        hint = HINTS.get(f"{get_named_type(parent).name}.{name}")
        if hint is None:
            if get_named_type(parent).name in ("Query", "Mutation"):
                self.root_without_hint = True
            return
        if hint == PRIVATE:
            self.private = True
        else:
            self.max_age = hint if self.max_age is None else min(self.max_age, hint)


class CachePolicies:
    """Policies by document, computed once each (a document's fields never change)."""

    def __init__(self, schema: GraphQLSchema, max_entries: int = 512) -> None:
        self.schema = schema
        self.max_entries = max_entries
        self.policies: OrderedDict[tuple[str, str | None], Policy] = OrderedDict()

    def policy(self, query: str, operation_name: str | None) -> Policy:
        """The policy of a document that has just run (so it parses)."""
        key = (query, operation_name)
        cached = self.policies.get(key)
        if cached is not None:
            self.policies.move_to_end(key)
            return cached
        policy = self._compute(parse(query), operation_name)
        self.policies[key] = policy
        while len(self.policies) > self.max_entries:
            self.policies.popitem(last=False)
        return policy

    def _compute(self, document: DocumentNode, operation_name: str | None) -> Policy:
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        chosen = [
            o for o in operations if operation_name is None or (o.name and o.name.value == operation_name)
        ]
        # Mutations, and documents that are not one query (execution would have refused them).
        if len(chosen) != 1 or chosen[0].operation != OperationType.QUERY:
            return Policy(0, private=True)
        # Fragments the operation does not use are visited too: they can only lower the policy.
        type_info = TypeInfo(self.schema)
        collector = _Collector(type_info)
        visit(document, TypeInfoVisitor(type_info, collector))
        if collector.root_without_hint or collector.max_age is None:
            return Policy(0, private=collector.private)
        return Policy(collector.max_age, private=collector.private)


def etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def matches(if_none_match: str | None, tag: str) -> bool:
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    # Weak comparison (RFC 9110 13.1.2): W/"x" matches "x".
    return any(candidate.strip().removeprefix("W/") == tag for candidate in if_none_match.split(","))
