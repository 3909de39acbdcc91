"""Fuzzing the API from its schema, on both backends: no request may get a 5xx or an unmasked error.

Two fuzzers, each bounded and seeded so that a run is reproducible and takes seconds:

- schemathesis (its GraphQL support) loads the schema by introspecting a live uvicorn server and
  fuzzes every Query and Mutation field as an operation of its own: positive examples (documents
  that validate) and negative ones (one schema violation each). Every request carries an admin's
  bearer token; `logout` gets a fresh one each time, so it never signs the other requests out.
  Now and then a generated argument is swapped for a real value of the seeded catalogue (IDs,
  slugs, cursors, URLs, the admin's email and password: schemathesis "dictionaries"), so the
  fuzzer gets past NOT_FOUND into the resolvers' real work. Deletes run last, so the catalogue
  lasts.
- hypothesis-graphql builds queries and mutations (several root fields at once) and invalid
  documents from the printed schema, with IDs and strings often real ones as above; plus, since
  both fuzzers write arguments inline, documents whose arguments are all variables, sent with any
  JSON for them (often of the right type). They run in process, through the real HTTP app, with
  Starlette's TestClient, as an admin, a member or anonymously.

Each request accepts one of application/graphql-response+json, application/json and */*, picked
by its document: the server answers an invalid document with 400 for the first and 200 for the
second; neither may be a 5xx, and the checks rely on no other status.

Every answer must keep the contract: status < 500; a GraphQL response (a JSON object with `data`
or `errors`); every error with one of the contract's codes; none INTERNAL_SERVER_ERROR (during
fuzzing that is a request the server should have refused cleanly: a bug); no message that reads
like an internal one (SQL, a driver or exception name, a traceback), the request's own strings
quoted back aside. schemathesis also runs its own GraphQL checks: `not_a_server_error` (told
which codes are refusals, see `server_errors`), `response_schema_conformance` (a JSON object; no
null in a non-null field) and, on negative examples, `negative_data_rejection`.

What runs on each backend (the counts per operation and the answers met are printed with -s):
- schemathesis: hypothesis seed 20260611 (SEED); for each of the 22 operations (8 queries, 14
  mutations) 8 positive examples (SCHEMATHESIS_EXAMPLES; 4 for the argument-less `me`,
  `heroVideo` and `logout`, 16 for the four create/update curation mutations:
  SCHEMATHESIS_EXAMPLES_OF) and 3 negative ones (SCHEMATHESIS_NEGATIVE_EXAMPLES): 259 requests.
- hypothesis-graphql: seed 20260611; 60 queries, 60 mutations, 30 invalid documents and 50
  documents with variables (HGQL_EXAMPLES, HGQL_NEGATIVE_EXAMPLES, HGQL_VARIABLES_EXAMPLES):
  200 requests.
5-7 s per fuzzer and backend, about 25 s for the file (45 s on a loaded machine). Both run with
argon2 at its cheapest parameters (`cheap_argon2`): the same code paths, but a sign-in costs
microseconds, not 0.2 s.
VIDEOLIB_FUZZ_SCALE=<n> multiplies every count and VIDEOLIB_FUZZ_SEED=<n> changes the seed, for
a longer hunt outside the suite.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import graphql
import hypothesis
import hypothesis_graphql
import pytest
import requests
import schemathesis
from argon2 import PasswordHasher
from hypothesis import HealthCheck, given, seed
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.graphql.checks import GraphQLServerError
from schemathesis.specs.openapi.checks import negative_data_rejection, response_schema_conformance

from models import User
from resolvers import passwords
from resolvers.errors import ERROR_CODES
from schema.api import print_schema
from schema.ids import global_id
from tests.factories import gid
from tests.live_server import live_server

# The suite's bounds (see the module docstring). A finding of a longer hunt becomes a focused
# regression test where the bug was.
SEED = int(os.environ.get("VIDEOLIB_FUZZ_SEED", "20260611"))
SCALE = int(os.environ.get("VIDEOLIB_FUZZ_SCALE", "1"))
SCHEMATHESIS_EXAMPLES = 8 * SCALE
SCHEMATHESIS_NEGATIVE_EXAMPLES = 3 * SCALE
# Positive examples where the default is too many or too few: fields without arguments vary only
# in their selection; the curation inputs have the most fields to get right before the write.
SCHEMATHESIS_EXAMPLES_OF = {
    **dict.fromkeys(("Query.me", "Query.heroVideo", "Mutation.logout"), 4 * SCALE),
    **dict.fromkeys(
        (
            "Mutation.createVideo",
            "Mutation.updateVideo",
            "Mutation.createCategory",
            "Mutation.updateCategory",
        ),
        16 * SCALE,
    ),
}
HGQL_EXAMPLES = 60 * SCALE
HGQL_NEGATIVE_EXAMPLES = 30 * SCALE
HGQL_VARIABLES_EXAMPLES = 50 * SCALE

# INTERNAL_SERVER_ERROR is one of them, but fuzzing must never meet it.
CONTRACT_CODES = frozenset(ERROR_CODES)
# Refusals of the request, as opposed to failures of the server.
REFUSAL_CODES = CONTRACT_CODES - {"INTERNAL_SERVER_ERROR"}
# What an internal message looks like: SQL, a driver or exception name, a traceback.
LEAK = re.compile(
    r"\bSELECT\b|\bINSERT\b|\bUPDATE\b.*\bSET\b|\bFROM `|sqlite3|pymysql|aiomysql|aiosqlite|peewee"
    r"|IntegrityError|OperationalError|ProgrammingError|DataError|Traceback|File \"",
    re.DOTALL,
)

PASSWORD = "password123"
# The server answers a document that does not validate with 400 for the GraphQL-over-HTTP media
# type and 200 for plain JSON: both are fuzzed, and neither may be a 5xx.
ACCEPTS = ("application/graphql-response+json", "application/json", "*/*")


# --- the checks ------------------------------------------------------------------------------


def sent_strings(document: str, variables: Any = None) -> list[str]:
    """Every string a request carries (literals in the document, strings in the variables)."""
    found: list[str] = []

    class Strings(graphql.Visitor):
        def enter_string_value(self, node: graphql.StringValueNode, *_: Any) -> None:
            found.append(node.value)

    with contextlib.suppress(graphql.GraphQLError):  # does not parse: nothing of it is echoed as a value
        graphql.visit(graphql.parse(document), Strings())
    stack = [variables]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return found


def _without_echoes(text: str, sent: list[str]) -> str:
    """`text` without the request's own strings that look like internals: a refusal may quote the
    input ("'SELECT 1' is not a valid ID"), and quoting it back leaks nothing."""
    for value in sorted((v for v in sent if LEAK.search(v)), key=len, reverse=True):
        for form in {value, value.strip(), value.strip().lower()}:
            text = text.replace(repr(form)[1:-1], "").replace(form, "")
    return text


def contract_problems(status: int, body: Any, sent: list[str] | None = None) -> list[str]:
    """Everything wrong with one answer (`sent`: the request's strings); empty when it keeps the
    contract."""
    if status >= 500:
        return [f"status {status}: {body!r}"]
    if not isinstance(body, dict) or not {"data", "errors"} & body.keys():
        return [f"not a GraphQL response (status {status}): {body!r}"]
    problems = []
    for error in body.get("errors") or ():
        code = (error.get("extensions") or {}).get("code")
        if code not in CONTRACT_CODES:
            problems.append(f"code {code!r} is not one of the contract's: {error}")
        elif code == "INTERNAL_SERVER_ERROR":
            problems.append(f"INTERNAL_SERVER_ERROR, for a request the server should have refused: {error}")
        text = f"{error.get('message')} {json.dumps(error.get('extensions'), ensure_ascii=False)}"
        if LEAK.search(_without_echoes(text, sent or [])):
            problems.append(f"an internal message leaked: {error}")
    return problems


def outcome(body: Any) -> str:
    """'ok', or the codes of the errors: what the fuzzers report they met."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not errors:
        return "ok"
    return "+".join(sorted({(e.get("extensions") or {}).get("code") or "?" for e in errors}))


def _body(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


@schemathesis.check
def contract_errors(ctx: Any, response: Any, case: Any) -> bool | None:
    sent = sent_strings(case.body) if isinstance(case.body, str) else []
    problems = contract_problems(response.status_code, _body(response), sent)
    if problems:
        raise AssertionError("\n".join(problems))
    return None


@schemathesis.check
def server_errors(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis's `not_a_server_error`, told which of our errors are refusals.

    It takes any error with a `path` for a server failure unless its code is BAD_USER_INPUT (the
    only one of ours it knows). NOT_FOUND, FORBIDDEN, UNAUTHENTICATED and CONFLICT are the
    contract's refusals; a 5xx, or any other error it flags, still fails."""
    try:
        not_a_server_error(ctx, response, case)
    except GraphQLServerError as failure:
        codes = {(error.get("extensions") or {}).get("code") for error in failure.errors}
        if not codes <= REFUSAL_CODES:
            raise
    return None


SCHEMATHESIS_CHECKS = [server_errors, response_schema_conformance, contract_errors]


def test_the_checks_catch_what_they_must() -> None:
    assert contract_problems(200, {"data": {"me": None}}) == []
    assert (
        contract_problems(400, {"errors": [{"message": "x", "extensions": {"code": "BAD_USER_INPUT"}}]}) == []
    )
    assert contract_problems(502, {"data": None}) == ["status 502: {'data': None}"]
    assert contract_problems(200, "Internal Server Error") == [
        "not a GraphQL response (status 200): 'Internal Server Error'"
    ]
    internal = {"message": "Internal server error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
    [problem] = contract_problems(200, {"data": None, "errors": [internal]})
    assert problem.startswith("INTERNAL_SERVER_ERROR")
    [problem] = contract_problems(200, {"errors": [{"message": "no code"}]})
    assert problem.startswith("code None")
    for leaked in (
        "(1062, \"Duplicate entry 'a' for key 'slug'\") IntegrityError",
        'near "FROM": syntax error in SELECT t1.id FROM `video`',
        "UPDATE `video` SET `view_count` = 1",
        'Traceback (most recent call last):\n  File "x.py"',
        "sqlite3.OperationalError: database is locked",
    ):
        error = {"message": leaked, "extensions": {"code": "BAD_USER_INPUT"}}
        assert contract_problems(200, {"errors": [error]}) == [f"an internal message leaked: {error}"]
    # Words a refusal may well use are not leaks.
    fine = {"message": "select a category; update the title", "extensions": {"code": "BAD_USER_INPUT"}}
    assert contract_problems(200, {"errors": [fine]}) == []
    # A refusal may quote the request back; the rest of its message must still be clean.
    document = 'mutation { updateCategory(id: "SELECT 1\\n", input: {name: $n}) { id } }'
    sent = sent_strings(document, {"n": [{"x": "Traceback"}]})
    assert sent == ["SELECT 1\n", "Traceback"]
    echo = {"message": "'SELECT 1\\n' is not a valid ID", "extensions": {"code": "BAD_USER_INPUT"}}
    assert contract_problems(200, {"errors": [echo]}, sent) == []
    assert contract_problems(200, {"errors": [echo]}) == [f"an internal message leaked: {echo}"]
    both = {"message": "'SELECT 1\\n' broke: sqlite3.Error", "extensions": {"code": "BAD_USER_INPUT"}}
    assert contract_problems(200, {"errors": [both]}, sent) == [f"an internal message leaked: {both}"]


# --- the data the fuzzers meet ---------------------------------------------------------------


@pytest.fixture
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> PasswordHasher:
    """argon2 at its cheapest: the same sign-in code paths, microseconds instead of 0.2 s each."""
    hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", hasher)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", hasher.hash("videolib-timing-equaliser"))
    return hasher


NODE_TYPES = ("Video", "VideoCategory", "VideoProgress", "User")
# Keys no row has: zero, past a 32-bit INT (MySQL's AUTO_INCREMENT keys), the last 64-bit one,
# past 64 bits.
EDGE_KEYS = (0, 2**31, 2**63 - 1, 2**63)


def edge_ids(*types: str) -> list[str]:
    """Well-formed global IDs of these types that name no row."""
    return [global_id(kind, pk) for kind in types for pk in EDGE_KEYS]


@dataclass
class Scene:
    admin_email: str
    tokens: dict[str, str | None]  # viewer -> bearer token
    mint_token: Callable[[str], str]  # a fresh token for "admin" or "member"
    # Real IDs, and well-formed ones that name no row (edge_ids).
    video_ids: list[str]
    category_ids: list[str]
    node_ids: list[str]
    slugs: list[str]
    urls: list[str]
    cursors: list[str] = field(default_factory=list)

    @property
    def admin_token(self) -> str:
        return str(self.tokens["admin"])


@pytest.fixture
def scene(factory: Any, cheap_argon2: PasswordHasher) -> Scene:
    """A small catalogue: active, inactive and empty categories, published and draft videos, a
    hero, progress and reactions; an admin and a member who can log in with PASSWORD."""
    admin = factory.admin()
    member = factory.user()
    with factory.bound():
        User.update(password_hash=cheap_argon2.hash(PASSWORD)).execute()
    nature = factory.category("Nature", sort_order=1)
    comedy = factory.category("Comedy", sort_order=2)
    hidden = factory.category("Hidden", active=False)
    empty = factory.category("Empty")
    videos = [
        factory.video(nature, admin, title="Wild Rivers", views=10, description="water and 100% fish"),
        factory.video(nature, admin, title="Deep_Forest", views=3, is_hero=True),
        factory.video(nature, admin, title="Draft Dunes", published=False),
        factory.video(comedy, admin, title="Stand-up Ünicode", views=7, duration=60),
        factory.video(comedy, admin, title="Zero Length", duration=0),
        factory.video(hidden, admin, title="In Hiding"),
    ]
    progress = [
        factory.progress(member, videos[0], 120),
        factory.progress(admin, videos[3], 59, completed=True),
        factory.progress(admin, videos[1], 30),
    ]
    factory.reaction(member, videos[0], "love")
    factory.reaction(admin, videos[0], "like")
    categories = [nature, comedy, hidden, empty]
    users = {"admin": admin, "member": member}
    return Scene(
        admin_email=admin.email,
        tokens={"admin": factory.token(admin), "member": factory.token(member), "anonymous": None},
        mint_token=lambda viewer: str(factory.token(users[viewer])),
        video_ids=[*(gid("Video", v) for v in videos), *edge_ids("Video")],
        category_ids=[*(gid("VideoCategory", c) for c in categories), *edge_ids("VideoCategory")],
        node_ids=[
            *(gid("Video", v) for v in videos),
            *(gid("VideoCategory", c) for c in categories),
            *(gid("VideoProgress", p) for p in progress),
            gid("User", admin),
            gid("User", member),
            *edge_ids(*NODE_TYPES),
            global_id("Nothing", 1),
        ],
        slugs=[c.slug for c in categories],
        urls=["https://media.example.com/fuzz.mp4", "http://cdn.example.com/a.jpg", "ftp://example.com/x"],
    )


CURSOR_QUERY = """query ($slug: String!) {
  popular: videos(first: 1, orderBy: POPULAR) { pageInfo { endCursor } }
  newest: videos(first: 1, orderBy: NEWEST) { pageInfo { endCursor } }
  title: videos(first: 1, orderBy: TITLE) { pageInfo { endCursor } }
  category(slug: $slug) { videos(first: 1) { pageInfo { endCursor } } }
}"""


def harvest_cursors(scene: Scene, post: Callable[..., Any]) -> None:
    """Real cursors of every list and order, so that `after` is sometimes one the server issued."""
    response = post(
        "/graphql",
        json={"query": CURSOR_QUERY, "variables": {"slug": scene.slugs[0]}},
        headers={"Authorization": f"Bearer {scene.admin_token}"},
    )
    data = response.json()["data"]
    scene.cursors = [data[order]["pageInfo"]["endCursor"] for order in ("popular", "newest", "title")]
    scene.cursors.append(data["category"]["videos"]["pageInfo"]["endCursor"])
    assert all(scene.cursors), data


def fuzz(strategy: st.SearchStrategy[Any], examples: int, test: Callable[[Any], None]) -> None:
    """Run `test` on up to `examples` values of `strategy`, from the fixed seed."""

    @seed(SEED)
    @hypothesis.settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    @given(value=strategy)
    def run(value: Any) -> None:
        test(value)

    run()


def report(line: str) -> None:
    """What ran, for the record: shown with -s (and with a failure's captured output)."""
    print(f"\n{line}")


# --- schemathesis, against a live server -----------------------------------------------------

# Deletes last, so that the other operations meet the catalogue; videos first, so that a
# category can empty.
LAST = ("Mutation.deleteVideo", "Mutation.deleteCategory")


def schemathesis_config(scene: Scene) -> schemathesis.Config:
    """Real values of the catalogue, each swapped in for a generated argument with the given odds."""

    def values(*entries: str) -> dict[str, Any]:
        return {"values": list(entries)}

    def bound(dictionary: str, probability: float = 0.5) -> dict[str, Any]:
        return {"dictionary": dictionary, "probability": probability}

    return schemathesis.Config.from_dict(
        {
            "dictionaries": {
                "node_ids": values(*scene.node_ids),
                "video_ids": values(*scene.video_ids),
                "category_ids": values(*scene.category_ids),
                "slugs": values(*scene.slugs),
                "cursors": values(*scene.cursors),
                "urls": values(*scene.urls),
                "emails": values(scene.admin_email, "new@example.com", " NEW@Example.com "),
                "passwords": values(PASSWORD),
            },
            "parameters": {
                "*.*.id": bound("node_ids"),
                "*.*.videoId": bound("video_ids"),
                "*.*.input.videoId": bound("video_ids"),
                "*.*.input.categoryId": bound("category_ids"),
                "*.*.slug": bound("slugs"),
                "*.*.input.slug": bound("slugs", 0.2),
                "*.*.filter.categorySlug": bound("slugs"),
                "*.*.after": bound("cursors"),
                "*.*.input.videoUrl": bound("urls", 0.7),
                "*.*.input.thumbnailUrl": bound("urls"),
                "*.*.input.captionUrl": bound("urls"),
                "*.*.email": bound("emails"),
                "*.*.input.email": bound("emails"),
                "*.*.password": bound("passwords"),
                "*.*.input.password": bound("passwords"),
            },
        }
    )


@pytest.fixture
def base_url(settings: Any, scene: Scene) -> Iterator[str]:
    with live_server(settings) as url:
        yield url


def test_schemathesis_finds_no_server_error(backend: str, base_url: str, scene: Scene) -> None:
    url = f"{base_url}/graphql"
    outcomes: dict[str, Counter[str]] = {}
    started = time.monotonic()
    with requests.Session() as session:
        harvest_cursors(scene, lambda path, **kw: session.post(base_url + path, **kw))
        schema = schemathesis.graphql.from_url(
            url, config=schemathesis_config(scene), headers={"Authorization": f"Bearer {scene.admin_token}"}
        )
        loaded = list(schema.get_all_operations())
        operations = sorted(
            (result.ok() for result in loaded if isinstance(result, Ok)),
            key=lambda op: LAST.index(op.label) + 1 if op.label in LAST else 0,
        )
        labels = [op.label for op in operations]
        # Every field of Query (8) and Mutation (14) loaded, the deletes last.
        assert len(labels) == len(loaded) == 22 and labels[-2:] == list(LAST), loaded

        for operation in operations:
            counts = outcomes[operation.label] = Counter()
            for mode, examples in (
                (
                    schemathesis.GenerationMode.POSITIVE,
                    SCHEMATHESIS_EXAMPLES_OF.get(operation.label, SCHEMATHESIS_EXAMPLES),
                ),
                (schemathesis.GenerationMode.NEGATIVE, SCHEMATHESIS_NEGATIVE_EXAMPLES),
            ):
                checks = [*SCHEMATHESIS_CHECKS]
                if mode is schemathesis.GenerationMode.NEGATIVE:
                    checks.append(negative_data_rejection)

                def send(
                    case: Any,
                    label: str = operation.label,
                    checks: list[Any] = checks,
                    counts: Counter[str] = counts,
                ) -> None:
                    # logout revokes the token it comes with: it gets one of its own.
                    token = scene.mint_token("admin") if label == "Mutation.logout" else scene.admin_token
                    # Picked by the document, so that a replay (while shrinking) sends the same.
                    accept = ACCEPTS[zlib.crc32(str(case.body).encode()) % len(ACCEPTS)]
                    headers = {"Authorization": f"Bearer {token}", "Accept": accept}
                    response = case.call_and_validate(session=session, headers=headers, checks=checks)
                    counts[outcome(_body(response))] += 1

                fuzz(operation.as_strategy(generation_mode=mode), examples, send)

    total = sum(sum(c.values()) for c in outcomes.values())
    report(
        f"schemathesis [{backend}]: seed {SEED}, {len(operations)} operations, {total} requests in "
        f"{time.monotonic() - started:.1f}s; answers per operation: "
        + "; ".join(f"{label} {dict(c)}" for label, c in outcomes.items()),
    )
    # Every operation ran, and the fuzzer got past the refusals into real work.
    assert all(outcomes.values()), outcomes
    assert sum(c["ok"] for c in outcomes.values()) >= total // 5, outcomes


# --- hypothesis-graphql, in process ----------------------------------------------------------


def _real_strings(scene: Scene) -> list[str]:
    return [*scene.slugs, *scene.cursors, *scene.urls, scene.admin_email, PASSWORD]


def any_id(scene: Scene) -> st.SearchStrategy[str]:
    """A real ID, a well-formed one with any key, or any string."""
    keys = st.one_of(st.integers(), st.sampled_from(EDGE_KEYS), st.text(max_size=5))
    return st.one_of(
        st.sampled_from(scene.node_ids),
        st.builds(global_id, st.sampled_from(NODE_TYPES), keys),
        st.text(max_size=30),
    )


def hgql_scalars(scene: Scene) -> dict[str, st.SearchStrategy[graphql.StringValueNode]]:
    """IDs and strings: often real ones of the catalogue, otherwise anything."""

    def nodes(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[graphql.StringValueNode]:
        return strategy.map(lambda value: graphql.StringValueNode(value=value))

    return {
        "ID": nodes(any_id(scene)),
        "String": nodes(st.one_of(st.sampled_from(_real_strings(scene)), st.text(max_size=30))),
    }


def with_variables(sdl: str, scene: Scene) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    """Both fuzzers write arguments inline; clients send variables, which graphql-core coerces on
    another path. One document per root field with arguments, each argument a variable of its
    declared type; each variable half the time a value of that type (often a real one), half the
    time any JSON at all, and sometimes left out."""
    schema = graphql.build_schema(sdl)
    input_fields = sorted(
        {
            name
            for t in schema.type_map.values()
            if isinstance(t, graphql.GraphQLInputObjectType)
            for name in t.fields
        }
    )
    strings = st.one_of(st.sampled_from(_real_strings(scene)), st.text(max_size=30))
    junk = st.recursive(
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(allow_nan=False, allow_infinity=False),
            strings,
            st.sampled_from(["\ud800", "a\udfff", "\x00"]),  # what JSON escapes allow and UTF-8 does not
        ),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(input_fields) | st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=8,
    )
    scalars = {
        "Int": st.one_of(st.integers(-(2**31), 2**31 - 1), st.sampled_from([0, 1, -1, 100, 101, 2**31 - 1])),
        "String": strings,
        "ID": any_id(scene),
        "Boolean": st.booleans(),
    }

    def typed(type_: Any) -> st.SearchStrategy[Any]:
        if isinstance(type_, graphql.GraphQLNonNull):
            return typed(type_.of_type)
        if isinstance(type_, graphql.GraphQLList):
            return st.lists(typed(type_.of_type), max_size=3)
        if isinstance(type_, graphql.GraphQLEnumType):
            return st.sampled_from(sorted(type_.values))
        if isinstance(type_, graphql.GraphQLInputObjectType):
            fields = type_.fields.items()
            return st.fixed_dictionaries(
                {name: typed(f.type) for name, f in fields if graphql.is_required_input_field(f)},
                optional={
                    name: st.none() | typed(f.type)
                    for name, f in fields
                    if not graphql.is_required_input_field(f)
                },
            )
        return scalars.get(type_.name, junk)

    documents = []
    for keyword, root in (("query", schema.query_type), ("mutation", schema.mutation_type)):
        assert root is not None
        for name, root_field in root.fields.items():
            if not root_field.args:
                continue
            declared = ", ".join(f"${arg}: {spec.type}" for arg, spec in root_field.args.items())
            passed = ", ".join(f"{arg}: ${arg}" for arg in root_field.args)
            composite = graphql.is_composite_type(graphql.get_named_type(root_field.type))
            document = (
                f"{keyword} ({declared}) {{ {name}({passed}) {'{ __typename }' if composite else ''} }}"
            )
            variables = {arg: st.one_of(typed(spec.type), junk) for arg, spec in root_field.args.items()}
            documents.append(st.tuples(st.just(document), st.fixed_dictionaries({}, optional=variables)))
    return st.one_of(documents)


def test_hypothesis_graphql_finds_no_server_error(backend: str, client: Any, scene: Scene) -> None:
    http = client.http
    harvest_cursors(scene, http.post)
    sdl = print_schema()
    scalars = hgql_scalars(scene)

    def inline(documents: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
        return documents.map(lambda document: (document, {}))

    runs = {
        "queries": (inline(hypothesis_graphql.queries(sdl, custom_scalars=scalars)), HGQL_EXAMPLES),
        "mutations": (inline(hypothesis_graphql.mutations(sdl, custom_scalars=scalars)), HGQL_EXAMPLES),
        "invalid": (
            inline(
                hypothesis_graphql.from_schema(
                    sdl, custom_scalars=scalars, mode=hypothesis_graphql.Mode.NEGATIVE
                )
            ),
            HGQL_NEGATIVE_EXAMPLES,
        ),
        "variables": (with_variables(sdl, scene), HGQL_VARIABLES_EXAMPLES),
    }
    outcomes: dict[str, Counter[str]] = {}
    started = time.monotonic()
    for name, (strategy, examples) in runs.items():
        counts = outcomes[name] = Counter()

        def send(example: tuple[tuple[str, dict[str, Any]], str, str], counts: Counter[str] = counts) -> None:
            (document, variables), viewer, accept = example
            token = scene.tokens[viewer]
            if token is not None and "logout" in document:
                token = scene.mint_token(viewer)  # logout revokes it
            headers = {"Content-Type": "application/json", "Accept": accept}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            # ensure_ascii: a lone surrogate in a variable goes out as the JSON escape a client may send.
            payload = json.dumps({"query": document, "variables": variables}, ensure_ascii=True)
            response = http.post("/graphql", content=payload, headers=headers)
            body = _body(response)
            problems = contract_problems(response.status_code, body, sent_strings(document, variables))
            assert not problems, f"as {viewer}, accepting {accept}: {payload}\n" + "\n".join(problems)
            counts[outcome(body)] += 1

        fuzz(
            st.tuples(strategy, st.sampled_from(sorted(scene.tokens)), st.sampled_from(ACCEPTS)),
            examples,
            send,
        )

    total = sum(sum(c.values()) for c in outcomes.values())
    report(
        f"hypothesis-graphql [{backend}]: seed {SEED}, {total} requests in "
        f"{time.monotonic() - started:.1f}s; answers: "
        + "; ".join(f"{name} {dict(c)}" for name, c in outcomes.items()),
    )
    assert {name: sum(c.values()) for name, c in outcomes.items()} == {
        "queries": HGQL_EXAMPLES,
        "mutations": HGQL_EXAMPLES,
        "invalid": HGQL_NEGATIVE_EXAMPLES,
        "variables": HGQL_VARIABLES_EXAMPLES,
    }
    assert all(outcomes[name]["ok"] > 0 for name in ("queries", "mutations", "variables")), outcomes
    assert set(outcomes["invalid"]) == {"BAD_USER_INPUT"}, outcomes
