"""Automatic persisted queries (schema/http/persisted.py) over HTTP, as Apollo's link speaks them:
the hash alone, NOT_FOUND, the query with its hash, then the hash alone again; over POST and GET,
with the in-memory LRU and with Redis shared between app instances. Then the stores' bounds: the
size of a document, the LRU's bytes, Redis's entries and TTL, and nothing stored that does not
validate."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import socket
import subprocess
import sys
import tracemalloc
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import peewee
import pytest
import redis
from starlette.testclient import TestClient

from models.database import bind
from resolvers.config import PersistedLimits, Settings
from schema.http.negotiation import GRAPHQL_RESPONSE
from schema.http.persisted import MemoryStore, RedisStore
from schema.ids import global_id
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


@pytest.fixture
def redis_limits(redis_sync: redis.Redis) -> Iterator[PersistedLimits]:
    """The default limits under a key prefix of this test's own (so that trimming its index touches
    no one else's keys, parallel runs included); every key under it is deleted afterwards."""
    limits = PersistedLimits(redis_prefix=f"videolib:test:apq:{uuid.uuid4()}:")
    try:
        yield limits
    finally:
        keys = list(redis_sync.scan_iter(match=limits.redis_prefix + "*"))
        if keys:
            redis_sync.delete(*keys)


def test_redis_shares_registered_queries_between_app_instances(
    settings: Settings,
    db: peewee.Database,
    shelf: dict[str, Any],
    redis_sync: redis.Redis,
    redis_limits: PersistedLimits,
) -> None:
    digest = sha256(SHELF)
    key = redis_limits.redis_prefix + digest
    variables = {"first": 2}
    redis_app = {"redis_url": REDIS_URL, "persisted": redis_limits}
    with app_with(settings, db, **redis_app) as first_app:
        assert send(first_app, "POST", digest=digest, variables=variables).json() == NOT_FOUND
        registered = send(first_app, "POST", digest=digest, query=SHELF, variables=variables)
        assert registered.json() == {"data": shelf}

    assert redis_sync.get(key) == SHELF.encode()
    ttl = redis_sync.ttl(key)
    assert isinstance(ttl, int)
    assert redis_limits.ttl_seconds == 24 * 3600
    assert redis_limits.ttl_seconds - 60 < ttl <= redis_limits.ttl_seconds

    with app_with(settings, db, **redis_app) as second_app:
        assert send(second_app, "GET", digest=digest, variables=variables).json() == {"data": shelf}
        # It reads through to Redis each time: once the key is gone, so is the query.
        redis_sync.delete(key)
        assert send(second_app, "POST", digest=digest, variables=variables).json() == NOT_FOUND


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


# --- bounds: what a document may be, and what each store may hold ------------------------------

TYPENAME = {"data": {"__typename": "Query"}}


def padded(size: int) -> str:
    """`{ __typename }` behind a comment, `size` bytes of UTF-8 in all: comments are free of the
    token limit, so this is how a store is filled cheaply. Each one is unique (so is its hash)."""
    head, body = f"# {uuid.uuid4()} ", "\n{ __typename }"
    return head + "x" * (size - len(head) - len(body)) + body


@pytest.fixture(params=["memory", "redis"])
def stores(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The settings of an app on each store: the in-memory LRU, or Redis under keys of this test."""
    if request.param == "memory":
        return {"persisted": PersistedLimits()}
    return {"redis_url": REDIS_URL, "persisted": request.getfixturevalue("redis_limits")}


def with_limits(stores: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**stores, "persisted": dataclasses.replace(stores["persisted"], **changes)}


def test_a_document_over_the_size_limit_is_refused_and_not_stored(
    settings: Settings, db: peewee.Database, stores: dict[str, Any]
) -> None:
    limit = PersistedLimits().max_document_bytes
    assert limit == 32 * 1024  # 40 times the biggest GraphiQL example, an eighth of the body limit
    at_limit, over = padded(limit), padded(limit + 1)
    refusal = {
        "errors": [
            {
                "message": f"This persisted query is {limit + 1} bytes, more than the {limit} the server "
                "stores (VIDEOLIB_PERSISTED_MAX_DOCUMENT_BYTES): send it without extensions.persistedQuery",
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ]
    }
    with app_with(settings, db, **stores) as http:
        # Refused before it runs, as a hash that does not match is: 400 under either media type.
        refused = send(http, "POST", digest=sha256(over), query=over)
        assert (refused.status_code, refused.json()) == (400, refusal)
        strict = send(http, "GET", digest=sha256(over), query=over, headers={"Accept": GRAPHQL_RESPONSE})
        assert (strict.status_code, strict.json()) == (400, refusal)
        assert send(http, "POST", digest=sha256(over)).json() == NOT_FOUND
        # Sent as a plain query, the same document runs: only storing it is refused.
        assert http.post("/graphql", json={"query": over}).json() == TYPENAME

        assert send(http, "POST", digest=sha256(at_limit), query=at_limit).json() == TYPENAME
        assert send(http, "GET", digest=sha256(at_limit)).json() == TYPENAME

    small = "query Small { __typename }"
    with app_with(settings, db, **with_limits(stores, max_document_bytes=len(small) - 1)) as http:
        message = send(http, "POST", digest=sha256(small), query=small).json()["errors"][0]["message"]
        expected = f"This persisted query is {len(small)} bytes, more than the {len(small) - 1} the server"
        assert message.startswith(expected)
        assert send(http, "POST", digest=sha256(small)).json() == NOT_FOUND


DEEP = "{ heroVideo " + "{ category { videos { edges { node " * 3 + "{ id }" + " } } } }" * 3 + " }"
COSTLY = """{ categories { videos(first: 100) { edges { node {
    category { videos(first: 100) { edges { node { id title } } } } } } } } }"""
# Documents the server refuses before running them: none of them may be stored.
REFUSED_BEFORE_RUNNING: list[tuple[str, str, dict[str, str]]] = [
    ("query Broken { categories { name }", "Syntax Error", {}),
    ("query Invalid { noSuchField }", "Cannot query field 'noSuchField'", {}),
    (DEEP, "more than the limit of 10 (VIDEOLIB_MAX_DEPTH)", {}),
    (COSTLY, "250,000", {}),
    ("query A { __typename } query B { __typename }", "Must provide operationName", {}),
    # A good document with a bad token: refused before it runs, so not stored either (the client
    # simply sends it again once signed in).
    ("query Me { me { id } }", "", {"Authorization": "Bearer vl_not-a-token"}),
]


def test_a_document_that_does_not_validate_is_not_stored(
    settings: Settings, db: peewee.Database, stores: dict[str, Any], redis_sync_or_none: Any
) -> None:
    with app_with(settings, db, **stores) as http:
        for query, needle, headers in REFUSED_BEFORE_RUNNING:
            answer = send(http, "POST", digest=sha256(query), query=query, headers=headers).json()
            assert "data" not in answer, query
            assert needle in answer["errors"][0]["message"], answer
            assert send(http, "POST", digest=sha256(query)).json() == NOT_FOUND, query
    if redis_sync_or_none is not None:
        assert list(redis_sync_or_none.scan_iter(match=stores["persisted"].redis_prefix + "*")) == []


def test_a_document_that_validates_is_stored_even_when_running_it_fails(
    settings: Settings, db: peewee.Database, stores: dict[str, Any], shelf: dict[str, Any]
) -> None:
    watch = "mutation Watch($id: ID!) { recordView(videoId: $id) { viewCount } }"
    missing = {"id": global_id("Video", 999_999)}
    with app_with(settings, db, **stores) as http:
        failed = send(http, "POST", digest=sha256(watch), query=watch, variables=missing).json()
        assert failed["data"] is None
        assert failed["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        # The hash alone now runs the stored document, and fails the same way.
        assert send(http, "POST", digest=sha256(watch), variables=missing).json() == failed

        bad = send(http, "POST", digest=sha256(SHELF), query=SHELF, variables={"first": "two"}).json()
        assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert send(http, "POST", digest=sha256(SHELF), variables={"first": 2}).json() == {"data": shelf}


@pytest.fixture
def redis_sync_or_none(request: pytest.FixtureRequest, stores: dict[str, Any]) -> Any:
    return request.getfixturevalue("redis_sync") if "redis_url" in stores else None


def test_the_memory_store_is_bounded_in_bytes_least_recently_used_first(
    settings: Settings, db: peewee.Database
) -> None:
    a, b, c, d = (padded(1_000) for _ in range(4))
    cost = MemoryStore.cost(sha256(a), a)
    assert cost == 113 + 1_049 + 160  # the hash and the text as Python holds them, and the LRU's share
    # Room for three and a half: the count limit (2,000) is far off, the bytes decide.
    limits = PersistedLimits(memory_bytes=3 * cost + cost // 2)
    with app_with(settings, db, persisted=limits) as http:
        for query in (a, b, c):
            assert send(http, "POST", digest=sha256(query), query=query).json() == TYPENAME
        assert send(http, "POST", digest=sha256(a)).json() == TYPENAME  # a is now the most recently used
        assert send(http, "POST", digest=sha256(d), query=d).json() == TYPENAME  # so b goes
        assert send(http, "POST", digest=sha256(b)).json() == NOT_FOUND
        for query in (a, c, d):
            assert send(http, "POST", digest=sha256(query)).json() == TYPENAME


def test_many_padded_documents_stay_within_the_memory_bound() -> None:
    """600 documents just under the size limit: without a bound in bytes the LRU would hold all of
    them (19 MiB, and 63 MiB at 2,000); it holds what fits in 8 MiB, and that is what it takes."""
    size = PersistedLimits().max_document_bytes - 100
    store = MemoryStore()
    assert (store.max_entries, store.max_bytes) == (2_000, 8 * 1024 * 1024)

    async def fill() -> None:
        for _ in range(600):
            query = padded(size)
            await store.put(sha256(query), query)
            assert store.bytes <= store.max_bytes

    loop = asyncio.new_event_loop()  # made outside the trace, so that only the store is measured
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        loop.run_until_complete(fill())
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
        loop.close()
    cost = MemoryStore.cost("0" * 64, padded(size))
    assert len(store.queries) == store.max_bytes // cost == 254
    assert store.bytes == sum(MemoryStore.cost(k, v) for k, v in store.queries.items())
    # The accounting is what the store really holds, give or take 1%, and errs on the high side.
    assert store.bytes * 0.99 < held <= store.bytes


def test_the_memory_store_counts_wide_characters_and_skips_what_can_never_fit() -> None:
    ascii_text, wide_text = "x" * 1_000, "\N{GRINNING FACE}" + "x" * 999
    # One character beyond the BMP makes Python hold every character in 4 bytes.
    assert MemoryStore.cost("k", wide_text) - MemoryStore.cost("k", ascii_text) > 2_900

    async def scenario() -> tuple[str | None, str | None, int]:
        store = MemoryStore(max_bytes=1_000)
        await store.put("small", "{ a }")
        await store.put("huge", ascii_text)  # alone over the bound: it would only empty the store
        return await store.get("small"), await store.get("huge"), store.bytes

    small, huge, held = asyncio.run(scenario())
    assert (small, huge) == ("{ a }", None)
    assert held == MemoryStore.cost("small", "{ a }")


def test_redis_keeps_at_most_max_entries_least_recently_used_first(
    settings: Settings, db: peewee.Database, redis_sync: redis.Redis, redis_limits: PersistedLimits
) -> None:
    limits = dataclasses.replace(redis_limits, max_entries=3)
    prefix, index = limits.redis_prefix, limits.redis_prefix + "index"
    a, b, c, d = (padded(200) for _ in range(4))
    with app_with(settings, db, redis_url=REDIS_URL, persisted=limits) as http:
        for query in (a, b, c):
            assert send(http, "POST", digest=sha256(query), query=query).json() == TYPENAME
        assert send(http, "GET", digest=sha256(a)).json() == TYPENAME  # a is now the most recently used
        assert send(http, "POST", digest=sha256(d), query=d).json() == TYPENAME  # so b goes
        assert send(http, "POST", digest=sha256(b)).json() == NOT_FOUND
        for query in (a, c, d):
            assert send(http, "POST", digest=sha256(query)).json() == TYPENAME

    assert redis_sync.zcard(index) == 3
    assert {m.decode() for m in redis_sync.zrange(index, 0, -1)} == {sha256(q) for q in (a, c, d)}
    keys = {k.decode() for k in redis_sync.scan_iter(match=prefix + "*")}
    assert keys == {index} | {prefix + sha256(q) for q in (a, c, d)}
    assert 0 < redis_sync.ttl(index) <= limits.ttl_seconds


def test_redis_documents_expire_a_ttl_after_their_last_use(
    settings: Settings, db: peewee.Database, redis_sync: redis.Redis, redis_limits: PersistedLimits
) -> None:
    limits = dataclasses.replace(redis_limits, ttl_seconds=1_000)
    key, index = limits.redis_prefix + sha256(SHELF), limits.redis_prefix + "index"
    with app_with(settings, db, redis_url=REDIS_URL, persisted=limits) as http:
        send(http, "POST", digest=sha256(SHELF), query=SHELF, variables={"first": 1})
        assert 990 < redis_sync.ttl(key) <= 1_000
        # As if it had not been used for 995 s: each use starts the TTL again.
        redis_sync.expire(key, 5)
        redis_sync.expire(index, 5)
        used_at = redis_sync.zscore(index, sha256(SHELF))
        assert send(http, "GET", digest=sha256(SHELF), variables={"first": 1}).json()["data"]
        assert 990 < redis_sync.ttl(key) <= 1_000
        assert 990 < redis_sync.ttl(index) <= 1_000
        last_use = redis_sync.zscore(index, sha256(SHELF))
        assert used_at is not None and last_use is not None and last_use > used_at


def test_redis_forgets_index_entries_older_than_the_ttl(
    redis_sync: redis.Redis, redis_limits: PersistedLimits
) -> None:
    limits = dataclasses.replace(redis_limits, ttl_seconds=1_000)
    prefix, index = limits.redis_prefix, limits.redis_prefix + "index"
    seconds, micros = redis_sync.time()
    now = seconds * 1_000_000 + micros
    # A hash last used 1,001 s ago (its key outlived it, say after a TTL was shortened), and one 999 s ago.
    redis_sync.zadd(index, {"old": now - 1_001 * 1_000_000, "recent": now - 999 * 1_000_000})
    redis_sync.set(prefix + "old", b"{ old }")
    redis_sync.set(prefix + "recent", b"{ recent }", ex=1)

    async def put() -> None:
        store = RedisStore(REDIS_URL, limits)
        try:
            await store.put("new", "{ new }")
        finally:
            await store.close()

    asyncio.run(put())
    assert [m.decode() for m in redis_sync.zrange(index, 0, -1)] == ["recent", "new"]
    assert redis_sync.exists(prefix + "old") == 0


def test_redis_bound_holds_under_concurrent_registrations(
    redis_sync: redis.Redis, redis_limits: PersistedLimits
) -> None:
    limits = dataclasses.replace(redis_limits, max_entries=5)
    prefix, index = limits.redis_prefix, limits.redis_prefix + "index"

    async def register_many() -> None:
        stores = [RedisStore(REDIS_URL, limits) for _ in range(4)]  # four workers
        try:
            await asyncio.gather(*(stores[n % 4].put(f"d{n}", f"{{ d{n} }}") for n in range(40)))
        finally:
            for store in stores:
                await store.close()

    asyncio.run(register_many())
    members = {m.decode() for m in redis_sync.zrange(index, 0, -1)}
    assert len(members) == 5
    keys = {k.decode() for k in redis_sync.scan_iter(match=prefix + "*")}
    assert keys == {index} | {prefix + m for m in members}


# --- configuration -------------------------------------------------------------------------------


def test_every_persisted_limit_is_read_from_its_environment_variable(monkeypatch: Any) -> None:
    from resolvers.config import PERSISTED_ENVIRONMENT, load_settings

    assert set(PERSISTED_ENVIRONMENT) == {
        "VIDEOLIB_PERSISTED_MAX_DOCUMENT_BYTES",
        "VIDEOLIB_PERSISTED_MEMORY_BYTES",
        "VIDEOLIB_PERSISTED_MAX_ENTRIES",
        "VIDEOLIB_PERSISTED_TTL_SECONDS",
    }
    values = {name: 100 + n for n, name in enumerate(PERSISTED_ENVIRONMENT)}
    for name, value in values.items():
        monkeypatch.setenv(name, f" {value} ")
    persisted = load_settings("sqlite:///:memory:").persisted
    for name, field in PERSISTED_ENVIRONMENT.items():
        assert getattr(persisted, field) == values[name], name
    assert persisted.redis_prefix == "videolib:apq:"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("VIDEOLIB_PERSISTED_MAX_DOCUMENT_BYTES", "32k", "must be a whole number, got '32k'"),
        ("VIDEOLIB_PERSISTED_MEMORY_BYTES", "0", "must be at least 1, got 0"),
        ("VIDEOLIB_PERSISTED_MAX_ENTRIES", "-5", "must be at least 1, got -5"),
        ("VIDEOLIB_PERSISTED_TTL_SECONDS", "1.5", "must be a whole number, got '1.5'"),
    ],
)
def test_a_bad_persisted_limit_is_one_line_and_exit_1(
    tmp_path: Any, name: str, value: str, message: str
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'videolib.db'}",
        "VIDEOLIB_SECRET_KEY": "k" * 40,
        name: value,
    }
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run(
        [sys.executable, os.path.join(root, "server.py"), "migrate"],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"videolib: error: {name} {message}"]
