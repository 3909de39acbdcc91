"""Automatic persisted queries (schema/http/persisted.py) over HTTP, as Apollo's link speaks them:
the hash alone, NOT_FOUND, the query with its hash, then the hash alone again; over POST and GET,
with the in-memory LRU and with Redis shared between app instances."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import peewee
import pytest
import redis
from starlette.testclient import TestClient

from models.database import bind
from resolvers.config import Settings
from schema.http.negotiation import GRAPHQL_RESPONSE
from schema.http.persisted import REDIS_PREFIX, REDIS_TTL_SECONDS, MemoryStore
from tests.factories import gid

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_SERVICES = os.environ.get("REQUIRE_MYSQL") == "1"

SHELF = (
    "query Shelf($first: Int!) { categories { name } "
    "videos(first: $first) { totalCount edges { node { title } } } }"
)
NOT_FOUND = {
    "errors": [{"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]
}
NO_STORE = "private, no-store"
STORE_DOWN = "persisted query store unavailable"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def send(
    http: TestClient,
    method: str,
    *,
    digest: str,
    query: str | None = None,
    variables: dict[str, Any] | None = None,
    version: int = 1,
    headers: dict[str, str] | None = None,
) -> Any:
    """One APQ request: the hash in extensions.persistedQuery, the query only when given."""
    extensions = {"persistedQuery": {"version": version, "sha256Hash": digest}}
    if method == "POST":
        body: dict[str, Any] = {"extensions": extensions, "variables": variables or {}}
        if query is not None:
            body["query"] = query
        return http.post("/graphql", json=body, headers=headers or {})
    params = {"extensions": json.dumps(extensions), "variables": json.dumps(variables or {})}
    if query is not None:
        params["query"] = query
    return http.get("/graphql", params=params, headers=headers or {})


@contextmanager
def app_with(settings: Settings, db: peewee.Database, **changes: Any) -> Iterator[TestClient]:
    from server import create_app

    with TestClient(create_app(dataclasses.replace(settings, **changes))) as http:
        yield http
    bind(db)


@pytest.fixture
def shelf(factory: Any) -> dict[str, Any]:
    """One category and three published videos (newest first); what SHELF answers with first: 2."""
    category = factory.category(name="Documentaries")
    admin = factory.admin()
    start = dt.datetime(2024, 1, 1)
    for n, title in enumerate(("Oldest", "Middle", "Newest")):
        factory.video(category, admin, title=title, created_at=start + dt.timedelta(days=n))
    return {
        "categories": [{"name": "Documentaries"}],
        "videos": {"totalCount": 3, "edges": [{"node": {"title": "Newest"}}, {"node": {"title": "Middle"}}]},
    }


# --- the exchange, in-memory store ---------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_hash_then_query_then_hash_alone(client: Any, shelf: dict[str, Any], method: str) -> None:
    http, digest = client.http, sha256(SHELF)
    first = {"first": 2}

    unknown = send(http, method, digest=digest, variables=first)
    assert unknown.status_code == 200, unknown.text
    assert unknown.json() == NOT_FOUND
    # Never cached: the same URL answers with data once the query is registered.
    assert unknown.headers["cache-control"] == NO_STORE

    registered = send(http, method, digest=digest, query=SHELF, variables=first)
    assert registered.status_code == 200, registered.text
    assert registered.json() == {"data": shelf}

    by_hash = send(http, method, digest=digest, variables=first)
    assert by_hash.status_code == 200, by_hash.text
    assert by_hash.json() == {"data": shelf}
    # The hash-only answer is as cacheable as the full one (public, with the same ETag).
    assert by_hash.headers["cache-control"] == registered.headers["cache-control"] == "public, max-age=60"
    assert by_hash.headers["etag"] == registered.headers["etag"]

    # The stored document runs with this request's variables.
    one = send(http, method, digest=digest, variables={"first": 1})
    assert one.json()["data"]["videos"]["edges"] == [{"node": {"title": "Newest"}}]


def test_not_found_is_404_under_graphql_response_json(client: Any) -> None:
    response = send(client.http, "POST", digest=sha256(SHELF), headers={"Accept": GRAPHQL_RESPONSE})
    assert response.status_code == 404
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert response.json() == NOT_FOUND


def test_a_registered_mutation_sent_by_hash_over_get_is_405(client: Any, factory: Any) -> None:
    video = factory.video(factory.category(), factory.admin(), views=0)
    mutation = "mutation Watch($id: ID!) { recordView(videoId: $id) { viewCount } }"
    digest, variables = sha256(mutation), {"id": gid("Video", video)}

    registered = send(client.http, "POST", digest=digest, query=mutation, variables=variables)
    assert registered.json() == {"data": {"recordView": {"viewCount": 1}}}

    over_get = send(client.http, "GET", digest=digest, variables=variables)
    assert over_get.status_code == 405
    assert over_get.headers["allow"] == "POST"
    assert (
        over_get.json()["errors"][0]["message"] == "Mutations are not accepted over GET: send them with POST"
    )

    # The GET wrote nothing; the hash alone still works over POST.
    by_hash = send(client.http, "POST", digest=digest, variables=variables)
    assert by_hash.json() == {"data": {"recordView": {"viewCount": 2}}}


def test_a_hash_that_does_not_match_the_query_is_400_and_stores_nothing(client: Any) -> None:
    other = sha256("{ __typename }")
    response = send(client.http, "POST", digest=other, query=SHELF, variables={"first": 1})
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "message": "provided sha256Hash does not match the query",
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ]
    }
    assert send(client.http, "POST", digest=other).json() == NOT_FOUND
    assert send(client.http, "POST", digest=sha256(SHELF)).json() == NOT_FOUND


@pytest.mark.parametrize("query", [None, SHELF], ids=["hash-only", "with-query"])
def test_persisted_query_version_2_is_400(client: Any, query: str | None) -> None:
    digest = sha256(SHELF)
    response = send(client.http, "POST", digest=digest, query=query, variables={"first": 1}, version=2)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["message"] == "Unsupported persisted query version: only version 1 is supported"
    assert send(client.http, "POST", digest=digest).json() == NOT_FOUND


def test_only_documents_that_parse_are_stored(client: Any) -> None:
    broken = "query Broken { categories { name }"
    answer = send(client.http, "POST", digest=sha256(broken), query=broken)
    assert answer.status_code == 200
    assert answer.json()["errors"][0]["message"].startswith("Syntax Error")
    assert send(client.http, "POST", digest=sha256(broken)).json() == NOT_FOUND

    # A document that parses is stored even when it does not validate: the hash alone then gets
    # the validation error again, not NOT_FOUND.
    invalid = "query Invalid { noSuchField }"
    first = send(client.http, "POST", digest=sha256(invalid), query=invalid).json()
    assert "noSuchField" in first["errors"][0]["message"]
    assert send(client.http, "POST", digest=sha256(invalid)).json() == first


def test_the_memory_store_evicts_the_least_recently_used() -> None:
    async def scenario() -> tuple[str | None, str | None, str | None, list[str]]:
        store = MemoryStore(max_entries=2)
        await store.put("a", "{ a }")
        await store.put("b", "{ b }")
        assert await store.get("a") == "{ a }"  # a is now the most recently used
        await store.put("c", "{ c }")  # so b goes
        return await store.get("a"), await store.get("b"), await store.get("c"), list(store.queries)

    a, b, c, kept = asyncio.run(scenario())
    assert (a, b, c) == ("{ a }", None, "{ c }")
    assert kept == ["a", "c"]


# --- Redis -------------------------------------------------------------------------------------


@pytest.fixture
def redis_sync() -> Iterator[redis.Redis]:
    """A sync client on the test Redis; the test fails instead of skipping with REQUIRE_MYSQL=1."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        message = f"Redis is not reachable at {REDIS_URL}: {exc}"
        if REQUIRE_SERVICES:
            pytest.fail(message + " (REQUIRE_MYSQL=1)", pytrace=False)
        pytest.skip(message)
    yield client
    client.close()


def test_redis_shares_registered_queries_between_app_instances(
    settings: Settings, db: peewee.Database, shelf: dict[str, Any], redis_sync: redis.Redis
) -> None:
    # A comment makes the text, and so the hash, unique to this run: parallel runs never collide.
    query = f"# apq test {uuid.uuid4()}\n{SHELF}"
    digest = sha256(query)
    key = REDIS_PREFIX + digest
    variables = {"first": 2}
    try:
        with app_with(settings, db, redis_url=REDIS_URL) as first_app:
            assert send(first_app, "POST", digest=digest, variables=variables).json() == NOT_FOUND
            registered = send(first_app, "POST", digest=digest, query=query, variables=variables)
            assert registered.json() == {"data": shelf}

        assert redis_sync.get(key) == query.encode()
        ttl = redis_sync.ttl(key)
        assert isinstance(ttl, int)
        assert REDIS_TTL_SECONDS - 60 < ttl <= REDIS_TTL_SECONDS

        with app_with(settings, db, redis_url=REDIS_URL) as second_app:
            assert send(second_app, "GET", digest=digest, variables=variables).json() == {"data": shelf}
            # It reads through to Redis each time: once the key is gone, so is the query.
            redis_sync.delete(key)
            assert send(second_app, "POST", digest=digest, variables=variables).json() == NOT_FOUND
    finally:
        redis_sync.delete(key)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound but not listening: connecting to it is refused, and nothing else can take it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


def test_a_redis_that_is_down_means_send_the_query_never_a_500(
    settings: Settings, db: peewee.Database, shelf: dict[str, Any], closed_port: int, caplog: Any
) -> None:
    caplog.set_level(logging.WARNING, logger="videolib")
    digest, variables = sha256(SHELF), {"first": 2}
    with app_with(settings, db, redis_url=f"redis://127.0.0.1:{closed_port}/0") as http:
        unknown = send(http, "POST", digest=digest, variables=variables)
        assert unknown.status_code == 200, unknown.text
        assert unknown.json() == NOT_FOUND
        strict = send(http, "GET", digest=digest, variables=variables, headers={"Accept": GRAPHQL_RESPONSE})
        assert strict.status_code == 404, strict.text
        assert strict.json() == NOT_FOUND

        registered = send(http, "POST", digest=digest, query=SHELF, variables=variables)
        assert registered.status_code == 200, registered.text
        assert registered.json() == {"data": shelf}
    # The first failure is logged, and the store is left alone for a while (no timeout per request).
    warnings = [r for r in caplog.records if r.name == "videolib" and r.getMessage() == STORE_DOWN]
    assert len(warnings) == 1
    assert all(r.exc_info and isinstance(r.exc_info[1], redis.ConnectionError) for r in warnings)


def test_a_failed_store_is_tried_again_after_the_back_off(monkeypatch: Any) -> None:
    import asyncio

    from schema.http import persisted

    class Flaky(persisted.MemoryStore):
        calls = 0
        broken = True

        async def get(self, digest: str) -> str | None:
            self.calls += 1
            if self.broken:
                raise ConnectionError("down")
            return await super().get(digest)

    store = Flaky()
    queries = persisted.PersistedQueries(store)
    now = [1000.0]
    monkeypatch.setattr(persisted.time, "monotonic", lambda: now[0])
    params = persisted.GraphQLParams(
        None, None, None, {"persistedQuery": {"version": 1, "sha256Hash": "a" * 64}}
    )

    async def lookups() -> None:
        for _ in range(3):  # one real attempt, then none until the back-off ends
            with pytest.raises(persisted.PersistedQueryNotFound):
                await queries.resolve(params)
        assert store.calls == 1
        store.broken = False
        await store.put("a" * 64, "{ __typename }")
        now[0] += persisted.PersistedQueries.BACK_OFF_SECONDS
        resolved, _ = await queries.resolve(params)
        assert resolved.query == "{ __typename }"
        assert store.calls == 2

    asyncio.run(lookups())
