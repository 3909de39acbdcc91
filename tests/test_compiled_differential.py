"""Whole answers with compiled plans against whole answers without them, on the real schema.

Each request goes to the app twice, with plans and with graphql-core alone: the screens the
benchmark sends, and queries hypothesis-graphql writes over the schema (with the fuzzing tests'
catalogue, IDs and cursors), as anonymous, member and admin. Status and body must be equal, but
for request ids. Every other test checks each compiled object against graphql-core as it runs
(tests/conftest.py); this one checks the answers a client gets.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import hypothesis_graphql
import peewee
import pytest
from hypothesis import strategies as st
from starlette.testclient import TestClient

from benchmarks import screens
from models.database import bind
from schema.api import print_schema
from schema.execution.executor import PLANS, CompiledExecutionContext
from server import create_app

# The fuzzing tests' catalogue (scene, and cheap_argon2 under it) as fixtures of this module too;
# the parameters named after them below are what F811 sees as redefinitions.
from tests.test_fuzz import (  # noqa: F401
    Scene,
    cheap_argon2,
    fuzz,
    harvest_cursors,
    hgql_scalars,
    scene,
    with_variables,
)

EXAMPLES = 150


@pytest.fixture
def http(settings: Any, db: peewee.Database, scene: Scene) -> Iterator[Any]:  # noqa: F811
    with TestClient(create_app(settings)) as client:
        harvest_cursors(scene, client.post)
        yield client
    bind(db)


def _without_request_ids(body: Any) -> Any:
    for error in body.get("errors", ()) if isinstance(body, dict) else ():
        (error.get("extensions") or {}).pop("requestId", None)
    return body


def same_answer(http: Any, scene: Scene, document: str, variables: Any, viewer: str) -> Any:  # noqa: F811
    token = scene.tokens[viewer]
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    payload = json.dumps({"query": document, "variables": variables}, ensure_ascii=True)
    answers = []
    for compiled in (True, False):
        CompiledExecutionContext.enabled = compiled
        try:
            response = http.post("/graphql", content=payload, headers=headers)
        finally:
            CompiledExecutionContext.enabled = True
        answers.append((response.status_code, _without_request_ids(response.json())))
    assert answers[0] == answers[1], f"as {viewer}: {payload}"
    return answers[0][1]


def test_the_screens_are_answered_alike(http: Any, scene: Scene) -> None:  # noqa: F811
    slug = scene.slugs[0]
    hero = same_answer(http, scene, "{ heroVideo { id } }", {}, "member")["data"]["heroVideo"]["id"]
    cursor = scene.cursors[-1]
    for viewer in ("anonymous", "member", "admin"):
        home = same_answer(http, scene, screens.HOME, {}, viewer)
        rows = {c["name"]: c for c in home["data"]["categories"]}
        assert {"Nature", "Comedy"} <= set(rows)
        titles = [e["node"]["title"] for e in rows["Nature"]["videos"]["edges"]]
        assert titles[:2] == ["Wild Rivers", "Deep_Forest"]
        same_answer(http, scene, screens.CATEGORY, {"slug": slug}, viewer)
        same_answer(http, scene, screens.CATEGORY, {"slug": slug, "after": cursor}, viewer)
        same_answer(http, scene, screens.CATALOGUE, {}, viewer)
        player = same_answer(http, scene, screens.PLAYER, {"id": hero}, viewer)
        assert player["data"]["video"]["title"] == "Deep_Forest"
    # The comparison was between two executors: the compiled app has plans for these screens.
    compiled = {key[0] for key, (plan, _) in PLANS.plans.items() if plan is not None}
    assert {"VideoConnection", "Video"} <= compiled


def test_generated_queries_are_answered_alike(http: Any, scene: Scene) -> None:  # noqa: F811
    sdl = print_schema()
    scalars = hgql_scalars(scene)
    documents = st.one_of(
        hypothesis_graphql.queries(sdl, custom_scalars=scalars).map(lambda d: (d, {})),
        with_variables(sdl, scene),
    )
    seen: list[str] = []

    def check(example: tuple[tuple[str, dict[str, Any]], str]) -> None:
        (document, variables), viewer = example
        if document.lstrip().startswith("mutation"):
            return  # writes would change what the second app reads
        body = same_answer(http, scene, document, variables, viewer)
        seen.append("errors" if body.get("errors") else "data")

    fuzz(st.tuples(documents, st.sampled_from(sorted(scene.tokens))), EXAMPLES, check)
    # Both kinds of answer were compared, not only refusals.
    assert seen.count("data") >= 10 and seen.count("errors") >= 1, seen
