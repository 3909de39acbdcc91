"""The examples of README.md's "## API guide" run, so the guide cannot go stale.

Every ```graphql block of the section runs, in the order it appears, against the demo catalogue
(models/demo.py), and must answer without errors. A ```json block that follows a ```graphql block
with nothing but blank lines between holds its variables. A string value there in angle brackets
is a placeholder filled with real data:

- "<video id>": the global ID of a published video (the demo hero);
- "<endCursor>": the first pageInfo.endCursor that the same operation returns with that
  variable set to null (so the cursor belongs to the very list the example pages).

Queries run twice, anonymously and with the token of a user registered for the test; mutations
run with that token (so an example of `logout` would need a token of its own).

The guide's claims about persisted queries and caching are checked here too, with its own
examples.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import peewee
import pytest
from graphql import OperationDefinitionNode, OperationType, parse

from models import ALL_MODELS
from models.database import DatabaseConfig
from models.demo import HERO_TITLE, seed
from tests.conftest import GraphQLClient
from tests.test_cli import url_of

README = Path(__file__).resolve().parent.parent / "README.md"
SECTION = "## API guide"

FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
PLACEHOLDER = re.compile(r"^<[^<>]+>$")

TEST_USER = {"email": "guide-reader@example.com", "password": "a long test password", "displayName": "Reader"}


@dataclass(frozen=True)
class Example:
    line: int  # of the ```graphql fence in README.md, for failure messages
    query: str
    variables: dict[str, Any]

    @property
    def operation(self) -> OperationDefinitionNode:
        [operation] = [d for d in parse(self.query).definitions if isinstance(d, OperationDefinitionNode)]
        return operation

    @property
    def is_mutation(self) -> bool:
        return self.operation.operation == OperationType.MUTATION

    @property
    def root_fields(self) -> set[str]:
        return {s.name.value for s in self.operation.selection_set.selections if hasattr(s, "name")}

    def __str__(self) -> str:
        return f"README.md:{self.line} ({self.operation.name.value if self.operation.name else 'anonymous'})"


def guide_section(text: str) -> tuple[int, str]:
    """The line the section starts on, and its text up to the next level-2 heading."""
    start = text.index(f"\n{SECTION}\n") + 1
    end = text.find("\n## ", start + len(SECTION))
    return text.count("\n", 0, start) + 1, text[start : end if end != -1 else len(text)]


def examples(text: str) -> list[Example]:
    first_line, section = guide_section(text)
    found: list[Example] = []
    blocks = list(FENCE.finditer(section))
    for i, block in enumerate(blocks):
        if block.group(1) != "graphql":
            continue
        variables: dict[str, Any] = {}
        following = blocks[i + 1] if i + 1 < len(blocks) else None
        if (
            following is not None
            and following.group(1) == "json"
            and not section[block.end() : following.start()].strip()
        ):
            variables = json.loads(following.group(2))
        line = first_line + section.count("\n", 0, block.start())
        found.append(Example(line, block.group(2), variables))
    return found


EXAMPLES = examples(README.read_text())


# --- the examples run ----------------------------------------------------------------------------


def test_the_guide_has_examples_of_every_screen_and_of_signing_in() -> None:
    fields = set().union(*(e.root_fields for e in EXAMPLES))
    screens = {"heroVideo", "continueWatching", "categories", "category", "video", "videos"}
    assert {"register", "login", "me"} | screens | {"recordView", "saveProgress", "react"} <= fields
    # Every placeholder used is one the test knows how to fill.
    used = {v for e in EXAMPLES for v in e.variables.values() if isinstance(v, str) and PLACEHOLDER.match(v)}
    assert used <= {"<video id>", "<endCursor>"}, used


@pytest.fixture
def demo(db: peewee.Database) -> dict[str, int]:
    """The demo catalogue, written with the sync database whatever the models are bound to."""
    with db.bind_ctx(ALL_MODELS):
        return seed(db)


def _end_cursor(value: Any) -> str | None:
    """The first pageInfo.endCursor anywhere in an answer."""
    if isinstance(value, dict):
        info = value.get("pageInfo")
        if isinstance(info, dict) and info.get("endCursor"):
            return str(info["endCursor"])
        children: Iterator[Any] = iter(value.values())
    elif isinstance(value, list):
        children = iter(value)
    else:
        return None
    for child in children:
        found = _end_cursor(child)
        if found is not None:
            return found
    return None


def _filled(
    client: GraphQLClient, example: Example, video_id: str, token: str | None
) -> dict[str, Any]:
    variables = {k: (video_id if v == "<video id>" else v) for k, v in example.variables.items()}
    for name, value in variables.items():
        if value == "<endCursor>":
            first_page = client.data(example.query, {**variables, name: None}, token)
            cursor = _end_cursor(first_page)
            assert cursor is not None, f"{example}: the first page has no endCursor to page with"
            variables[name] = cursor
    return variables


def test_every_graphql_example_of_the_guide_runs_without_errors(
    client: GraphQLClient, demo: dict[str, int]
) -> None:
    assert demo["videos"] > 0
    hero = client.data("{ heroVideo { id title } }")["heroVideo"]
    assert hero["title"] == HERO_TITLE
    video_id = hero["id"]
    signed_up = client.data(
        "mutation($input: RegisterInput!) { register(input: $input) { token } }", {"input": TEST_USER}
    )
    token = signed_up["register"]["token"]

    answers: dict[int, list[dict[str, Any]]] = {}  # by the line of the example
    for example in EXAMPLES:
        callers: list[str | None] = [token] if example.is_mutation else [None, token]
        for caller in callers:
            variables = _filled(client, example, video_id, caller)
            body = client.post(example.query, variables, caller)
            who = "signed in" if caller else "anonymous"
            assert "errors" not in body, f"{example}, {who}: {body['errors']}"
            assert body["data"] is not None
            answers.setdefault(example.line, []).append(body["data"])

    # The examples answered what the guide says they answer, not just something. (The last answer
    # of each: signed in.)
    by_field = {field: answers[e.line][-1] for e in EXAMPLES for field in e.root_fields}
    assert by_field["me"]["me"]["displayName"] == TEST_USER["displayName"]
    assert by_field["register"]["register"]["user"]["email"] == "ada@example.com"
    assert by_field["login"]["login"]["user"]["displayName"] == "Ada"
    home = by_field["heroVideo"]
    assert home["heroVideo"]["id"] == video_id
    assert [c["slug"] for c in home["categories"]] == ["nature", "science", "cooking", "travel", "tech"]
    assert all(c["videos"]["edges"] for c in home["categories"])
    page = by_field["category"]["category"]
    assert page["name"] == "Nature & Wildlife" and page["videos"]["totalCount"] == page["videoCount"] > 0
    player = by_field["video"]["video"]
    assert player["id"] == video_id
    kinds = [c["type"] for c in player["reactions"]["counts"]]
    assert kinds == ["LIKE", "LOVE", "HAHA", "WOW", "SAD", "ANGRY"]
    assert video_id in {e["node"]["id"] for e in player["category"]["videos"]["edges"]}
    assert by_field["saveProgress"]["saveProgress"]["lastPosition"] == 120
    assert by_field["react"]["react"]["reactions"]["viewerReaction"] == "LOVE"


def _connections(value: Any) -> list[dict[str, Any]]:
    """Every connection (an object with pageInfo and edges) anywhere in an answer, in order."""
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        if isinstance(value.get("pageInfo"), dict) and "edges" in value:
            found.append(value)
        for child in value.values():
            found += _connections(child)
    elif isinstance(value, list):
        for child in value:
            found += _connections(child)
    return found


def _ids(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


def test_every_paged_example_has_a_second_page_that_holds_videos(
    client: GraphQLClient, demo: dict[str, int]
) -> None:
    """The demo catalogue is big enough that each example that pages shows a cursor that leads
    somewhere: a list with hasNextPage, and an "<endCursor>" placeholder whose page is not empty."""
    video_id = client.data("{ heroVideo { id } }")["heroVideo"]["id"]
    paged = [e for e in EXAMPLES if not e.is_mutation and "pageInfo" in e.query]
    assert {e.operation.name.value for e in paged if e.operation.name} >= {"Home", "CategoryPage", "Search"}
    for example in paged:
        variables = {
            k: (video_id if v == "<video id>" else None if v == "<endCursor>" else v)
            for k, v in example.variables.items()
        }
        first = client.data(example.query, variables)
        assert any(c["pageInfo"]["hasNextPage"] for c in _connections(first)), f"{example}: one page only"
        if "<endCursor>" not in example.variables.values():
            continue
        second = client.data(example.query, _filled(client, example, video_id, None))
        [first_page, *_] = _connections(first)
        [next_page, *_] = _connections(second)
        assert first_page["pageInfo"]["hasNextPage"] is True
        assert _ids(next_page), f"{example}: the page after endCursor is empty"
        assert not set(_ids(first_page)) & set(_ids(next_page))


# --- README.md's "A worked example" ---------------------------------------------------------------

WORKED_EXAMPLE = "### A worked example"


def _worked_example_blocks(kind: str) -> list[str]:
    text = README.read_text()
    start = text.index(f"\n{WORKED_EXAMPLE}\n")
    end = text.index("\n### ", start + 1)
    return [m.group(2) for m in FENCE.finditer(text[start:end]) if m.group(1) == kind]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_worked_example_waits_for_the_server_then_registers(
    db_config: DatabaseConfig, db: peewee.Database, demo: dict[str, int], tmp_path: Path
) -> None:
    """The shell lines as written: the wait line is running before the server listens (curl is
    refused meanwhile), ends once /healthz answers, and the register request that follows works."""
    [sh] = _worked_example_blocks("sh")
    lines = sh.splitlines()
    assert lines[0].startswith("make run &")
    wait, register = lines[1], "\n".join(lines[2:4])
    assert wait.startswith("until curl -sf localhost:8000/healthz;") and "/graphql" in register
    port = _free_port()
    waiting = subprocess.Popen(
        ["bash", "-c", wait.replace(":8000", f":{port}")], stdout=subprocess.PIPE, text=True
    )
    server: subprocess.Popen[bytes] | None = None
    try:
        # While nothing listens, the loop keeps trying (curl is refused, the loop does not end).
        with pytest.raises(subprocess.TimeoutExpired):
            waiting.wait(timeout=2)
        environ = {**os.environ, "DATABASE_URL": url_of(db_config), "VIDEOLIB_SECRET_KEY": "k" * 40}
        server = subprocess.Popen(
            [sys.executable, str(README.parent / "server.py"), "serve", "--port", str(port)],
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        out, _ = waiting.communicate(timeout=60)
        assert waiting.returncode == 0
        assert json.loads(out) == {"status": "ok"}
        answered = subprocess.run(
            ["bash", "-c", register.replace(":8000", f":{port}")], capture_output=True, text=True, timeout=30
        )
        body = json.loads(answered.stdout)
        assert body["data"]["register"]["token"].startswith("vl_"), body
        assert base64.b64decode(body["data"]["register"]["user"]["id"]).decode().startswith("User:")
    finally:
        waiting.kill()
        if server is not None:
            server.terminate()
            server.wait(timeout=30)


def test_the_worked_example_home_screen_has_a_next_page_of_nature(
    client: GraphQLClient, demo: dict[str, int]
) -> None:
    [home] = _worked_example_blocks("graphql")
    answer = client.data(home)
    nature = next(c for c in answer["categories"] if c["slug"] == "nature")
    assert nature["videoCount"] == nature["videos"]["totalCount"] == 32
    assert nature["videos"]["pageInfo"]["hasNextPage"] is True
    first = {edge["node"]["id"] for edge in nature["videos"]["edges"]}
    assert len(first) == 25
    # "Next page of one row", as the README writes it.
    text = README.read_text()
    [next_page] = re.findall(r"Next page\s+of one row: `(.*?)`", text)
    query = "query($after: String) { " + next_page.replace('"<endCursor>"', "$after").replace(
        "{ … }", "{ pageInfo { hasNextPage } edges { node { id } } }"
    ) + " }"
    rest = client.data(query, {"after": nature["videos"]["pageInfo"]["endCursor"]})["category"]["videos"]
    assert rest["pageInfo"]["hasNextPage"] is False
    assert len(rest["edges"]) == 7 and not first & {edge["node"]["id"] for edge in rest["edges"]}


# --- what the guide says about persisted queries and caching --------------------------------------


def _example(field: str) -> Example:
    return next(e for e in EXAMPLES if field in e.root_fields and not e.is_mutation)


def _apq(query: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(query.encode()).hexdigest()}}


def test_persisted_queries_work_as_the_guide_says(client: GraphQLClient, demo: dict[str, int]) -> None:
    http = client.http
    example = _example("category")
    extensions = _apq(example.query)

    unknown = http.post("/graphql", json={"extensions": extensions, "variables": example.variables})
    assert unknown.status_code == 200
    assert unknown.json() == {
        "errors": [{"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]
    }

    registered = http.post(
        "/graphql", json={"query": example.query, "extensions": extensions, "variables": example.variables}
    )
    assert registered.status_code == 200
    expected = registered.json()
    assert expected["data"]["category"]["name"] == "Nature & Wildlife"

    by_hash = http.post("/graphql", json={"extensions": extensions, "variables": example.variables})
    assert by_hash.json() == expected
    over_get = http.get(
        "/graphql",
        params={"extensions": json.dumps(extensions), "variables": json.dumps(example.variables)},
        headers={"Accept": "application/json"},
    )
    assert over_get.status_code == 200
    assert over_get.json() == expected


def test_caching_works_as_the_guide_says(client: GraphQLClient, demo: dict[str, int]) -> None:
    http = client.http
    accept = {"Accept": "application/json"}

    def get(query: str, variables: dict[str, Any] | None = None, **headers: str) -> Any:
        params = {"query": query, "variables": json.dumps(variables or {})}
        return http.get("/graphql", params=params, headers={**accept, **headers})

    catalogue = "{ categories { name slug } }"
    public = get(catalogue)
    assert public.status_code == 200
    assert public.headers["cache-control"] == "public, max-age=60"
    assert public.headers["vary"] == "Accept, Authorization"
    not_modified = get(catalogue, **{"If-None-Match": public.headers["etag"]})
    assert not_modified.status_code == 304
    assert not_modified.content == b""

    # The category page example: catalogue only, so a minute.
    page = _example("category")
    assert get(page.query, page.variables).headers["cache-control"] == "public, max-age=60"
    # Reaction counts: 30 s; the schema: 300 s.
    counts = get("{ heroVideo { title reactions { total } } }")
    assert counts.headers["cache-control"] == "public, max-age=30"
    assert get("{ __schema { queryType { name } } }").headers["cache-control"] == "public, max-age=300"

    # Viewer-dependent fields (even anonymous), a token, or a mutation: never stored.
    hero_id = client.data("{ heroVideo { id } }")["heroVideo"]["id"]
    for query in _example("continueWatching").query, _example("me").query, _example("video").query:
        answer = get(query, {"id": hero_id} if "$id" in query else None)
        assert "errors" not in answer.json(), answer.json()
        assert answer.headers["cache-control"] == "private, no-store"
        assert "etag" not in answer.headers
    token = client.data(
        "mutation($input: RegisterInput!) { register(input: $input) { token } }", {"input": TEST_USER}
    )["register"]["token"]
    signed_in = get(catalogue, Authorization=f"Bearer {token}")
    assert signed_in.status_code == 200
    assert signed_in.headers["cache-control"] == "private, no-store"
    play = next(e for e in EXAMPLES if "recordView" in e.root_fields)
    played = http.post("/graphql", json={"query": play.query, "variables": {"id": hero_id}})
    assert played.json()["data"]["recordView"]["id"] == hero_id
    assert played.headers["cache-control"] == "private, no-store"
