"""Apollo Client's real persisted-queries link (tests/apollo/apq.mjs, run by node) against a live
server: the hash alone, PersistedQueryNotFound, the retry with the query, then the hash alone.

Needs node; `npm ci` installs tests/apollo/node_modules the first time (the lock file pins
@apollo/client 3.x). Without node the test is skipped, unless REQUIRE_MYSQL=1 (CI), where it fails.
Run with -s to see the exchange.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from schema.http.negotiation import GRAPHQL_RESPONSE, JSON
from tests.live_server import live_server

APOLLO_DIR = Path(__file__).parent / "apollo"
REQUIRE_SERVICES = os.environ.get("REQUIRE_MYSQL") == "1"
NPM_CI_TIMEOUT = 300
SCRIPT_TIMEOUT = 60
NOT_FOUND = {
    "errors": [{"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]
}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"`{name}` is not on PATH: the Apollo Client test needs Node.js"
        if REQUIRE_SERVICES:
            pytest.fail(message + " (REQUIRE_MYSQL=1)", pytrace=False)
        pytest.skip(message)
    return path


def _installed() -> bool:
    """node_modules holds the @apollo/client version package-lock.json pins."""
    lock = json.loads((APOLLO_DIR / "package-lock.json").read_text())
    pinned = lock["packages"]["node_modules/@apollo/client"]["version"]
    installed = APOLLO_DIR / "node_modules" / "@apollo" / "client" / "package.json"
    return installed.is_file() and json.loads(installed.read_text())["version"] == pinned


@pytest.fixture(scope="session")
def apollo_node() -> str:
    """node, with tests/apollo/node_modules installed from the lock file."""
    node = _tool("node")
    if not _installed():
        npm = _tool("npm")
        started = time.monotonic()
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=APOLLO_DIR,
            capture_output=True,
            text=True,
            timeout=NPM_CI_TIMEOUT,
        )
        assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
        print(f"\nnpm ci in {APOLLO_DIR} took {time.monotonic() - started:.1f}s")
    return node


def run_apq(node: str, url: str, *options: str) -> dict[str, Any]:
    done = subprocess.run(
        [node, "apq.mjs", url, *options],
        cwd=APOLLO_DIR,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT,
    )
    assert done.returncode == 0, f"apq.mjs failed:\n{done.stdout}\n{done.stderr}"
    return dict(json.loads(done.stdout))


def show(title: str, run: dict[str, Any]) -> None:
    """The exchange, printed for -s."""
    print(f"\n--- {title}: @apollo/client {run['apolloClient']} {json.dumps(run['options'])}")
    for n, request in enumerate(run["requests"], 1):
        sent = request["body"] if request["method"] == "POST" else request["params"]
        print(f"{n}. {request['method']} {request['url'].split('?')[0]} Accept: {request['accept']}")
        print(f"   sent: {json.dumps(sent)}")
        print(f"   got:  {request['status']} {request['contentType']} {json.dumps(request['response'])}")


def without_typename(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_typename(v) for k, v in value.items() if k != "__typename"}
    if isinstance(value, list):
        return [without_typename(v) for v in value]
    return value


@pytest.mark.parametrize(
    ("options", "first_method", "not_found_status", "media"),
    [
        pytest.param((), "POST", 200, JSON, id="default-accept"),
        pytest.param(
            ("--accept", GRAPHQL_RESPONSE), "POST", 404, GRAPHQL_RESPONSE, id="graphql-response-json"
        ),
        pytest.param(("--get",), "GET", 200, JSON, id="get-for-hashed"),
    ],
)
def test_apollo_persisted_query_link(
    apollo_node: str,
    settings: Any,
    factory: Any,
    options: tuple[str, ...],
    first_method: str,
    not_found_status: int,
    media: str,
) -> None:
    category = factory.category(name="Documentaries")
    admin = factory.admin()
    start = dt.datetime(2024, 1, 1)
    for n, title in enumerate(("Oldest", "Middle", "Newest")):
        factory.video(category, admin, title=title, created_at=start + dt.timedelta(days=n))
    expected = {
        "categories": [{"name": "Documentaries"}],
        "videos": {"totalCount": 3, "edges": [{"node": {"title": "Newest"}}, {"node": {"title": "Middle"}}]},
    }

    with live_server(settings) as base_url:
        run = run_apq(apollo_node, f"{base_url}/graphql", "--first", "2", *options)
    show(f"{' '.join(options) or 'defaults'}", run)

    assert run["apolloClient"].startswith("3.")
    # Exactly three requests: a fourth would be the link retrying a hash the server forgot.
    assert [(r["method"], r["status"]) for r in run["requests"]] == [
        (first_method, not_found_status),
        ("POST", 200),
        (first_method, 200),
    ]
    unknown, retry, again = run["requests"]
    sent = [r["body"] if r["method"] == "POST" else r["params"] for r in (unknown, retry, again)]

    # 1. The hash alone, answered PersistedQueryNotFound.
    assert unknown["method"] == first_method
    assert "query" not in sent[0]
    digest = sent[0]["extensions"]["persistedQuery"]["sha256Hash"]
    assert sent[0]["extensions"]["persistedQuery"] == {"version": 1, "sha256Hash": digest}
    assert sent[0]["operationName"] == "ApqShelf"
    assert (unknown["status"], unknown["contentType"]) == (not_found_status, media)
    assert unknown["response"] == NOT_FOUND

    # 2. The link retries with the query and its hash (always POST), and gets data.
    assert retry["method"] == "POST"
    assert hashlib.sha256(sent[1]["query"].encode()).hexdigest() == digest
    assert sent[1]["extensions"]["persistedQuery"] == {"version": 1, "sha256Hash": digest}
    assert retry["status"] == 200
    assert without_typename(retry["response"]) == {"data": expected}

    # 3. The second operation sends the hash alone again, and the server knows it.
    assert again["method"] == first_method
    assert "query" not in sent[2]
    assert sent[2]["extensions"]["persistedQuery"] == {"version": 1, "sha256Hash": digest}
    assert again["status"] == 200
    assert without_typename(again["response"]) == {"data": expected}

    # What the application saw: data both times, no error.
    assert [without_typename(r) for r in run["results"]] == [{"data": expected, "errors": None}] * 2
