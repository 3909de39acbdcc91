"""Compiled execution plans (schema/execution/) against graphql-core's executor.

A schema of plain-data types whose values can be made wrong on purpose (nulls in non-null
positions, out-of-range ints, unknown enum values, wrong types, exceptions as values) runs every
document twice, with and without plans, and the answers must be equal: data, errors, their
messages, paths and locations, in order. Every other test of the suite checks the same thing on
the real schema (tests/conftest.py), and test_read_queries_match_... below on whole answers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass
from enum import Enum
from typing import Any

import pytest
import strawberry
from strawberry.extensions import ParserCache

from schema.execution import executor
from schema.execution.executor import PLANS, VERIFY, CompiledExecutionContext, PlanCache


@strawberry.enum
class Color(Enum):
    RED = "red"
    GREEN = "green"


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Leaf(Named):
    maybe: str | None
    n: int
    ratio: float
    color: Color
    colors: list[Color | None]
    when: dt.datetime


@strawberry.type
class Item:
    label: str
    leaf: Leaf | None
    must: Leaf
    leaves: list[Leaf]
    maybe_leaves: list[Leaf | None] | None
    tags: list[str]

    @strawberry.field
    def computed(self) -> str:  # a resolver: objects selecting it are left to graphql-core
        return self.label.upper()


@dataclass
class Fixture:
    items: list[Any]


DATA = Fixture(items=[])


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item | None]:
        return DATA.items

    @strawberry.field
    async def first(self) -> Item:
        await asyncio.sleep(0)
        return DATA.items[0]


# Plans are keyed by the document's nodes: like the app's, this schema parses a text once.
COMPILED = strawberry.Schema(
    query=Query, execution_context_class=CompiledExecutionContext, extensions=[ParserCache]
)
STANDARD = strawberry.Schema(query=Query)
WHEN = dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC)


def leaf(name: Any = "leaf", **overrides: Any) -> Leaf:
    values: dict[str, Any] = dict(
        name=name, maybe=None, n=1, ratio=0.5, color=Color.RED, colors=[Color.GREEN, None], when=WHEN
    )
    values.update(overrides)
    return Leaf(**values)


def item(label: Any = "item", **overrides: Any) -> Item:
    values: dict[str, Any] = dict(
        label=label,
        leaf=leaf("a"),
        must=leaf("b"),
        leaves=[leaf("c"), leaf("d")],
        maybe_leaves=[leaf("e"), None],
        tags=["x", "y"],
    )
    values.update(overrides)
    return Item(**values)


FULL = """
query Q($more: Boolean!, $less: Boolean!) {
  items {
    __typename
    label
    alias: label
    leaf { ...L }
    must { ...L when }
    leaves { ...L n ratio }
    maybeLeaves { name ... on Leaf { color } ...@include(if: $more) { maybe } }
    tags @skip(if: $less)
  }
}
fragment L on Named { name ... on Leaf { maybe n color colors __typename } }
"""

# Each case breaks one value; graphql-core decides what the answer is, the plan must agree.
CASES: dict[str, Any] = {
    "plain": lambda: [item(), item("two")],
    "null label (non-null) nulls the list item": lambda: [item(None), item()],
    "null nullable object": lambda: [item(leaf=None)],
    "null in non-null object propagates to the item": lambda: [item(must=None)],
    "null deep in a non-null chain": lambda: [item(must=leaf(None))],
    "null item of [Leaf!]!": lambda: [item(leaves=[leaf(), None])],
    "null item of [Leaf]": lambda: [item(maybe_leaves=[None, leaf(None)])],
    "int out of range": lambda: [item(leaves=[leaf(n=2**31)])],
    "bool for int": lambda: [item(leaves=[leaf(n=True)])],
    "string for int": lambda: [item(leaves=[leaf(n="7")])],
    "float ratio nan": lambda: [item(leaves=[leaf(ratio=float("nan"))])],
    "int for string": lambda: [item(5)],
    "unknown enum value": lambda: [item(leaf=leaf(color="BLUE"))],
    "raw enum string": lambda: [item(leaf=leaf(color="red", colors=["green", 3, None]))],
    "exception as a value": lambda: [item(leaf=leaf(maybe=ValueError("boom")))],
    "exception as an object": lambda: [item(leaf=RuntimeError("no leaf"))],
    "wrong object type": lambda: [item(leaf=item())],
    "not a list": lambda: [item(tags="abc")],
    "tuple is a list": lambda: [item(tags=("a", "b"))],
    "dict is not a list": lambda: [item(leaves={"a": 1})],
    "missing attribute": lambda: [object()],
    "two errors in one item": lambda: [item(leaf=leaf(n=2**40), maybe_leaves=[leaf(n=2**40)])],
    "empty": lambda: [],
}


def run(schema: strawberry.Schema, query: str, variables: dict[str, Any] | None = None) -> Any:
    result = asyncio.run(schema.execute(query, variable_values=variables))
    errors = [
        (e.message, e.path, [(loc.line, loc.column) for loc in e.locations or ()])
        for e in result.errors or ()
    ]
    return result.data, errors


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("more,less", [(True, False), (False, True)])
def test_the_plan_answers_what_graphql_core_answers(case: str, more: bool, less: bool) -> None:
    DATA.items = CASES[case]()
    variables = {"more": more, "less": less}
    expected = run(STANDARD, FULL, variables)
    assert run(COMPILED, FULL, variables) == expected
    if case == "plain":  # the comparison is about something: real values came back
        assert expected[1] == []
        assert expected[0]["items"][1]["label"] == "two"
        assert expected[0]["items"][0]["must"]["when"] == "2026-01-02T03:04:05.000006+00:00"
        assert ("tags" in expected[0]["items"][0]) is not less
        assert ("maybe" in expected[0]["items"][0]["maybeLeaves"][0]) is more


def test_a_non_null_root_with_a_broken_child_nulls_the_data() -> None:
    DATA.items = [item(must=None)]
    query = "{ first { label must { name } } }"
    expected = run(STANDARD, query)
    assert expected == (
        None,
        [("Cannot return null for non-nullable field Item.must.", ["first", "must"], [(1, 17)])],
    )
    assert run(COMPILED, query) == expected


def test_plans_are_compiled_once_and_reused() -> None:
    DATA.items = [item(), item("two")]
    query = "query R($on: Boolean!) { items { label leaf @include(if: $on) { name n } } }"
    before = PLANS.compiled
    first = run(COMPILED, query, {"on": True})
    compiled_once = PLANS.compiled - before
    assert compiled_once == 1  # Item (Leaf is part of Item's plan), shared by both list items
    assert run(COMPILED, query, {"on": True}) == first
    assert PLANS.compiled - before == 1  # the same document and directive values: the same plan
    # @include's variable decides what is collected: another value is another plan.
    without = run(COMPILED, query, {"on": False})
    assert without == ({"items": [{"label": "item"}, {"label": "two"}]}, [])
    assert PLANS.compiled - before == 2


def test_objects_with_a_resolver_are_left_to_graphql_core(caplog: pytest.LogCaptureFixture) -> None:
    DATA.items = [item()]
    caplog.set_level(logging.DEBUG, "videolib.execution")
    query = "{ items { computed label must { name n } } }"
    before = (PLANS.compiled, PLANS.fallbacks)
    answer = run(COMPILED, query)
    assert answer == ({"items": [{"computed": "ITEM", "label": "item", "must": {"name": "b", "n": 1}}]}, [])
    assert answer == run(STANDARD, query)
    # Item has a resolver: graphql-core completes it, and compiles nothing for it; the Leaf
    # below it is plain data and gets its own plan.
    assert (PLANS.compiled - before[0], PLANS.fallbacks - before[1]) == (1, 1)
    assert "standard executor for Item: Item.computed has a resolver" in caplog.text


def test_introspection_is_left_to_graphql_core() -> None:
    query = '{ __type(name: "Leaf") { name fields { name type { name kind ofType { name } } } } }'
    answer = run(COMPILED, query)
    assert answer == run(STANDARD, query)
    assert [f["name"] for f in answer[0]["__type"]["fields"]][:2] == ["name", "maybe"]


def test_the_suite_wide_check_catches_a_wrong_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """tests/conftest.py compares every compiled completion with graphql-core's: a plan that drops
    a field must be reported, or that check would prove nothing."""
    real = executor.compile_selection

    def forgetful(ex: Any, return_type: Any, fdl: Any, keep_source: bool = False) -> Any:
        plan = real(ex, return_type, fdl, keep_source)

        def broken(ex: Any, src: Any, path: Any) -> Any:
            answer = plan(ex, src, path)
            answer.pop("tags", None)
            return answer

        broken.__doc__ = plan.__doc__
        return broken

    monkeypatch.setattr(executor, "compile_selection", forgetful)
    monkeypatch.setattr(CompiledExecutionContext, "plans", PlanCache())  # nothing compiled before
    DATA.items = [item()]
    mismatches = VERIFY.mismatches
    assert mismatches == []
    run(COMPILED, "{ items { label tags } }")
    assert len(mismatches) == 1
    assert mismatches[0].startswith("Item at ['items', 0]:\n  compiled: ({'label': 'item'}, None, [])")
    mismatches.clear()  # reported on purpose: the fixture must not fail this test


def test_the_plan_cache_is_bounded() -> None:
    cache = PlanCache(size=2)
    for n in range(3):
        cache.put(("T", n), None, ())
    assert list(cache.plans) == [("T", 1), ("T", 2)]  # the least recently used went first
    assert cache.get(("T", 1)) == (None, ())
    cache.put(("T", 3), None, ())
    assert list(cache.plans) == [("T", 1), ("T", 3)]
