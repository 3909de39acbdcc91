"""What one request may cost the database and the CPU: sign-ins, writes and statements counted
through fragments and batches, the statement estimate checked against what really runs, and a
request's share of the connection pool (issue 12, part 1)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import graphql
import hypothesis_graphql
import peewee
import pytest
from playhouse.test_utils import count_queries
from starlette.testclient import TestClient

from models import AccessToken, User, Video
from models.database import (
    DatabaseBusy,
    StatementBudget,
    StatementLimitExceeded,
    bind,
    make_async_database,
    statement_budget,
)
from resolvers.config import Limits, Settings
from schema.api import schema as default_schema
from schema.limits import SEARCH_WEIGHT, measure_document
from tests import test_statement_counts as screens
from tests.factories import gid
from tests.test_fuzz import SEED, Scene, cheap_argon2, fuzz, harvest_cursors, hgql_scalars, scene  # noqa: F401

LIMITS = Limits()


@contextmanager
def app_with(settings: Settings, db: peewee.Database, **limits: Any) -> Iterator[TestClient]:
    from server import create_app

    changed = dataclasses.replace(settings, limits=dataclasses.replace(LIMITS, **limits))
    with TestClient(create_app(changed)) as http:
        yield http
    bind(db)


def estimate(query: str, operation: str | None = None) -> int:
    measures = measure_document(default_schema._schema, graphql.parse(query))
    return measures[operation].statements if operation else next(iter(measures.values())).statements


def refused(client: Any, query: str, needle: str, token: str | None = None) -> None:
    """Refused with BAD_USER_INPUT before any statement runs (the token lookup included)."""
    with count_queries() as counter:
        error = client.error(query, token=token)
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert needle in error["message"], error["message"]
    assert counter.count == 0, [q.msg for q in counter.get_queries()]


# --- sign-ins, through fragments and batches -------------------------------------------------


LOGINS = " ".join(
    f'a{n}: login(email: "x@example.com", password: "wrongpass{n}") {{ token }}' for n in range(30)
)


@pytest.mark.parametrize(
    "query",
    [
        "mutation { ... on Mutation { " + LOGINS + " } }",
        "mutation { ...Guesses } fragment Guesses on Mutation { " + LOGINS + " }",
        # Fragments inside fragments, and register beside login.
        "mutation { ...A } fragment A on Mutation { ... on Mutation { ...B } "
        'r: register(input: {email: "r@example.com", password: "password123", displayName: "R"}) '
        "{ token } } fragment B on Mutation { "
        'l: login(email: "x@example.com", password: "password123") { token } }',
    ],
    ids=["inline fragment", "named fragment", "nested fragments with register"],
)
def test_sign_ins_through_fragments_are_counted(client: Any, db: peewee.Database, query: str) -> None:
    refused(client, query, "Sign in or register once per request")
    with db.bind_ctx([User, AccessToken]):
        assert User.select().count() == 0
        assert AccessToken.select().count() == 0


def test_one_sign_in_through_a_fragment_runs(client: Any, factory: Any) -> None:
    factory.user(email="one@example.com")
    login = 'login(email: "one@example.com", password: "wrong-password") { token }'
    query = "mutation { ... on Mutation { " + login + " } }"
    error = client.error(query)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_batch_counts_as_one_request(settings: Settings, db: peewee.Database) -> None:
    register = (
        'mutation { register(input: {email: "%s@example.com", password: "password123", displayName: "B"}) '
        "{ token } }"
    )
    with app_with(settings, db, max_batch=5) as http:
        two = [{"query": register % "b1"}, {"query": register % "b2"}]
        response = http.post("/graphql", json=two)
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert "once per request" in error["message"]
        with db.bind_ctx([User]):
            assert User.select().count() == 0  # neither ran
        # One sign-in and a read in one batch is fine.
        one = [{"query": register % "b3"}, {"query": "{ categories { id } }"}]
        answers = http.post("/graphql", json=one).json()
        assert answers[0]["data"]["register"]["token"]
        assert answers[1] == {"data": {"categories": []}}


# --- writes per request ----------------------------------------------------------------------


def _views(video_id: str, n: int) -> str:
    views = " ".join(f'v{i}: recordView(videoId: "{video_id}") {{ viewCount }}' for i in range(n))
    return "mutation { " + views + " }"


def test_viewer_writes_are_capped_per_request(client: Any, factory: Any, db: peewee.Database) -> None:
    video = factory.video(factory.category(), factory.admin(), views=0)
    limit = LIMITS.max_viewer_writes
    refused(client, _views(gid("Video", video), limit + 1), "VIDEOLIB_MAX_VIEWER_WRITES")
    # Through a fragment too.
    thirty = _views(gid("Video", video), 30)[len("mutation { ") :]
    fragment = "mutation { ...V } fragment V on Mutation { " + thirty
    refused(client, fragment, "got 30")
    with db.bind_ctx([Video]):
        assert Video.get_by_id(video.id).view_count == 0  # nothing ran
    data = client.data(_views(gid("Video", video), limit))
    assert sorted(v["viewCount"] for v in data.values()) == list(range(1, limit + 1))


def test_admin_writes_are_capped_per_request(client: Any, factory: Any, db: peewee.Database) -> None:
    admin = factory.admin()
    token = factory.token(admin)
    category = factory.category(name="Before")
    limit = LIMITS.max_admin_writes
    cid = gid("VideoCategory", category)
    updates = " ".join(
        f'u{n}: updateCategory(id: "{cid}", input: {{name: "After {n}"}}) {{ name }}'
        for n in range(limit + 1)
    )
    query = "mutation { " + updates + " }"
    refused(client, query, "VIDEOLIB_MAX_ADMIN_WRITES", token=token)
    with db.bind_ctx([type(category)]):
        assert type(category).get_by_id(category.id).name == "Before"


def test_write_caps_count_across_a_batch(settings: Settings, db: peewee.Database, factory: Any) -> None:
    video = factory.video(factory.category(), factory.admin(), views=0)
    three = _views(gid("Video", video), 3)
    with app_with(settings, db, max_batch=5) as http:
        response = http.post("/graphql", json=[{"query": three}, {"query": three}])
        assert response.status_code == 400
        assert "VIDEOLIB_MAX_VIEWER_WRITES" in response.json()["errors"][0]["message"]
        with db.bind_ctx([Video]):
            assert Video.get_by_id(video.id).view_count == 0


# --- statements --------------------------------------------------------------------------------


def test_thirty_searches_in_one_request_are_refused(client: Any) -> None:
    """The field report's request: 60 table scans for 2 KB, now refused before any statement."""
    query = "{ " + " ".join(
        f'a{n}: videos(first: 0, filter: {{search: "zq1"}}) {{ totalCount }}' for n in range(30)
    ) + " }"
    assert estimate(query) == 1 + 30 * 2 * SEARCH_WEIGHT
    refused(client, query, "VIDEOLIB_MAX_STATEMENTS")


def test_counts_and_pages_weigh_a_statement_each(client: Any) -> None:
    rows = " ".join(f"c{n}: categories {{ videoCount videos(first: 1) {{ totalCount }} }}" for n in range(8))
    many = "{ " + rows + " }"
    assert estimate(many) == 1 + 8 * 4
    refused(client, many, "could run about 33 SQL statements")


def test_the_contract_screens_are_within_the_default_budget(client: Any) -> None:
    for name, query, actual in [
        ("home", screens.HOME, screens.HOME_STATEMENTS),
        ("category", screens.CATEGORY, screens.CATEGORY_STATEMENTS),
        ("player", screens.PLAYER, screens.PLAYER_STATEMENTS),
        ("search", screens.SEARCH, screens.SEARCH_STATEMENTS),
    ]:
        assert actual <= estimate(query) <= LIMITS.max_statements, name
    # Two searches with their totals still fit; a third does not.
    search = 'videos(filter: {{search: "{}"}}) {{ totalCount edges {{ node {{ id }} }} }}'
    two = "{ a: " + search.format("a") + " b: " + search.format("b") + " }"
    assert "errors" not in client.post(two)
    refused(client, two[:-1] + " c: " + search.format("c") + " }", "VIDEOLIB_MAX_STATEMENTS")


def test_the_statement_limit_follows_the_settings(settings: Settings, db: peewee.Database) -> None:
    with app_with(settings, db, max_statements=5) as http:
        body = http.post("/graphql", json={"query": screens.HOME}).json()
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "more than the limit of 5 (VIDEOLIB_MAX_STATEMENTS)" in body["errors"][0]["message"]
        assert http.post("/graphql", json={"query": "{ heroVideo { id title } }"}).json() == {
            "data": {"heroVideo": None}
        }


def test_statements_beyond_the_budget_fail_as_they_run(
    settings: Settings, db: peewee.Database, factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The backstop: were the estimate ever too low, the request still stops at its budget."""
    factory.video(factory.category(), factory.admin())
    monkeypatch.setattr("schema.limits.STATEMENTS", {})  # the estimate now says 1 for anything
    with app_with(settings, db, max_statements=2) as http, count_queries() as counter:
        body = http.post("/graphql", json={"query": screens.HOME}).json()
    # Twice the estimate limit (RUNTIME_ALLOWANCE), room for a retried transaction.
    messages = {e["message"] for e in body["errors"]}
    assert messages == {
        "This request ran more than 4 SQL statements (VIDEOLIB_MAX_STATEMENTS): "
        "split it into several requests."
    }, body
    assert {e["extensions"]["code"] for e in body["errors"]} == {"BAD_USER_INPUT"}
    assert counter.count == 4


def test_the_estimate_bounds_what_runs_on_fuzzed_operations(
    backend: str, client: Any, scene: Scene  # noqa: F811 (the fixture, imported from test_fuzz)
) -> None:
    """For every query hypothesis-graphql builds that the server runs, the statements counted are
    at most the estimate the limit is checked against."""
    http = client.http
    harvest_cursors(scene, http.post)
    sdl = default_schema.as_str()
    scalars = hgql_scalars(scene)
    strategy = hypothesis_graphql.queries(sdl, custom_scalars=scalars) | hypothesis_graphql.mutations(
        sdl, custom_scalars=scalars
    )
    checked = []

    def send(example: tuple[str, str]) -> None:
        document, viewer = example
        token = scene.tokens[viewer]
        if token is not None and "logout" in document:
            token = scene.mint_token(viewer)  # logout revokes it
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        with count_queries() as counter:
            body = http.post("/graphql", json={"query": document}, headers=headers).json()
        if "data" not in body:
            return  # refused before it ran
        bound = estimate(document)
        ran = counter.count
        assert ran <= bound, f"{ran} statements ran, estimated {bound}: {document}\n" + "\n".join(
            q.msg[0] for q in counter.get_queries()
        )
        checked.append(ran)

    import hypothesis.strategies as st

    fuzz(st.tuples(strategy, st.sampled_from(sorted(scene.tokens))), 300, send)
    assert len(checked) > 100 and max(checked) >= 5, checked


# --- a request's share of the pool -------------------------------------------------------------


def _async_db(config: Any, **kwargs: Any) -> Any:
    return make_async_database(config, **kwargs)


async def _hold(db: Any, seconds: float, inside: list[int], peak: list[int]) -> None:
    """Hold a connection for a while, in a transaction of its own task."""
    async with db.atomic():
        await db.aexecute_sql("SELECT 1")
        inside[0] += 1
        peak[0] = max(peak[0], inside[0])
        await asyncio.sleep(seconds)
        inside[0] -= 1


def test_one_request_holds_at_most_its_share_of_connections(db_config: Any) -> None:
    async def run() -> tuple[int, int]:
        database = _async_db(db_config, pool_size=10)
        try:
            peaks = []
            for connections in (2, None):
                inside, peak = [0], [0]
                token = statement_budget.set(StatementBudget(connections=connections))
                try:
                    await asyncio.gather(*(_hold(database, 0.1, inside, peak) for _ in range(6)))
                finally:
                    statement_budget.reset(token)
                peaks.append(peak[0])
            return peaks[0], peaks[1]
        finally:
            await database.close_pool()

    bounded, unbounded = asyncio.run(run())
    assert bounded == 2
    assert unbounded == 6  # the same work, unbounded, takes six


def test_a_full_pool_waits_in_line_then_says_busy(db_config: Any) -> None:
    async def run() -> tuple[list[str], type[BaseException] | None]:
        database = _async_db(db_config, pool_size=2, read_timeout=0.3)
        inside, peak = [0], [0]
        try:
            # Two holders take the pool; a short one waits its turn and gets through...
            holders = [asyncio.create_task(_hold(database, 0.2, inside, peak)) for _ in range(2)]
            await asyncio.sleep(0.05)
            order: list[str] = []

            async def waiter() -> None:
                await database.aexecute_sql("SELECT 1")
                await database.aclose()
                order.append("served")

            await waiter()
            await asyncio.gather(*holders)
            # ...but behind holders that outlast the wait, it fails as busy.
            holders = [asyncio.create_task(_hold(database, 1.0, inside, peak)) for _ in range(2)]
            await asyncio.sleep(0.05)
            failure: type[BaseException] | None = None
            try:
                await waiter()
            except DatabaseBusy as exc:
                failure = type(exc)
            await asyncio.gather(*holders)
            return order, failure
        finally:
            await database.close_pool()

    order, failure = asyncio.run(run())
    assert order == ["served"]
    assert failure is DatabaseBusy


def test_busy_is_told_as_busy_over_http(
    settings: Settings, db: peewee.Database, factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The request fails after the wait with a message that says so and a retryAfter, and no
    traceback in the log: as a field error, or (when signing in could not start) a request
    error, 503 under graphql-response+json."""
    from server import create_app

    token = factory.token(factory.user())
    busy = dataclasses.replace(settings, db_pool_size=1, db_read_timeout=0.3)
    with TestClient(create_app(busy)) as http:
        http.post("/graphql", json={"query": "{ categories { id } }"})  # the pool is open
        from models.database import current

        database = current()
        release = asyncio.Event()

        async def hold() -> None:
            async with database.atomic():
                await database.aexecute_sql("SELECT 1")
                await release.wait()

        portal = http.portal
        assert portal is not None
        future = portal.start_task_soon(hold)
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            field_error = http.post("/graphql", json={"query": "{ categories { id } }"}).json()
            response = http.post(
                "/graphql",
                json={"query": "{ categories { id } }"},
                headers={"Accept": "application/graphql-response+json", "Authorization": f"Bearer {token}"},
            )
        portal.call(release.set)
        future.result(timeout=5)
        after = http.post("/graphql", json={"query": "{ categories { id } }"}).json()
    bind(db)
    assert field_error["data"] is None
    assert field_error["errors"][0]["message"] == "The server is busy: try again in a moment."
    assert field_error["errors"][0]["path"] == ["categories"]
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    [error] = response.json()["errors"]
    assert error["message"] == "The server is busy: try again in a moment."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["extensions"]["retryAfter"] == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert any("came free" in r.getMessage() for r in caplog.records)
    assert after == {"data": {"categories": []}}


def test_the_budget_counts_and_times_every_statement(db_config: Any) -> None:
    async def run() -> StatementBudget:
        database = _async_db(db_config)
        budget = StatementBudget(limit=2)
        token = statement_budget.set(budget)
        try:
            await database.aexecute_sql("SELECT 1")
            await database.aexecute_sql("SELECT 2")
            with pytest.raises(StatementLimitExceeded):
                await database.aexecute_sql("SELECT 3")
            await database.aclose()
        finally:
            statement_budget.reset(token)
            await database.close_pool()
        return budget

    budget = asyncio.run(run())
    assert budget.count == 2
    assert budget.seconds > 0


def test_large_documents_are_not_kept_in_the_parser_cache(client: Any) -> None:
    """A padded document is parsed for its request and dropped: the count-bounded cache would
    otherwise hold 256 of them (a parsed document holds about twice its text)."""
    from strawberry.extensions.parser_cache import _get_parse_cache

    from schema.api import CACHE_SIZE, PARSER_CACHE_MAX_CHARS

    cache = _get_parse_cache(CACHE_SIZE)
    padded = "#" + "x" * PARSER_CACHE_MAX_CHARS + "\n{ __typename }"
    before = cache.cache_info()
    assert client.data(padded) == {"__typename": "Query"}
    after = cache.cache_info()
    assert (after.hits, after.misses) == (before.hits, before.misses)  # the cache was not asked
    small = "{ __typename } # a new text: " + str(id(after))
    assert client.data(small) == {"__typename": "Query"}
    assert cache.cache_info().misses == after.misses + 1
