"""GET /metrics: requests by operation and status, latency, SQL statements per request, errors by
code and the database pool, scraped from the real app and parsed as Prometheus would."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from models.database import DatabaseConfig, bind, make_async_database
from resolvers.errors import ERROR_CODES
from schema.http.metrics import Metrics
from schema.http.requestinfo import RequestInfo
from tests.asgi_calls import call, status_and_body

Labels = tuple[str, ...]


def values(text: str, sample: str, *labels: str) -> dict[Labels, float]:
    """The samples called `sample` in a scrape, keyed by the values of `labels`."""
    found: dict[Labels, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == sample:
                found[tuple(s.labels[name] for name in labels)] = s.value
    return found


def scrape(client: Any) -> str:
    response = client.http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    return str(response.text)


def pool(text: str) -> tuple[float, float, float]:
    """(in use, idle, maximum)."""
    connections = values(text, "videolib_db_pool_connections", "state")
    assert set(connections) == {("in_use",), ("idle",)}
    (maximum,) = values(text, "videolib_db_pool_max_connections").values()
    return connections[("in_use",)], connections[("idle",)], maximum


# --- through the app ---------------------------------------------------------------------------


def test_scrape_counts_requests_statements_and_errors(client: Any, backend: str) -> None:
    assert client.http.get("/healthz").status_code == 200
    assert client.data("query Cats { categories { id } }") == {"categories": []}
    refused = client.http.post(
        "/graphql", content="{ categories { id } }", headers={"Content-Type": "text/plain"}
    )
    assert refused.status_code == 415
    assert client.error('{ node(id: "garbage") { id } }')["extensions"]["code"] == "BAD_USER_INPUT"

    text = scrape(client)

    assert values(text, "videolib_http_requests_total", "operation", "status") == {
        ("-", "200"): 1,  # /healthz
        ("Cats", "200"): 1,
        ("anonymous", "415"): 1,  # refused before any operation was read
        ("anonymous", "200"): 1,
    }
    # Cats is one statement and the garbage id is refused before any. (The "-" requests are
    # observed too, /healthz and the 415, but what /healthz counts is models/database.py's call.)
    assert values(text, "videolib_http_request_sql_statements_count", "operation_type") == {
        ("query",): 2,
        ("-",): 2,
    }
    assert values(text, "videolib_http_request_sql_statements_sum", "operation_type")[("query",)] == 1
    query_buckets = {
        le: n
        for (kind, le), n in values(
            text, "videolib_http_request_sql_statements_bucket", "operation_type", "le"
        ).items()
        if kind == "query"
    }
    assert (query_buckets["0.0"], query_buckets["1.0"], query_buckets["+Inf"]) == (1, 2, 2)
    errors = values(text, "videolib_graphql_errors_total", "code")
    assert errors == {(code,): 2 if code == "BAD_USER_INPUT" else 0 for code in ERROR_CODES}
    durations = values(text, "videolib_http_request_duration_seconds_count", "operation_type")
    assert durations == {("query",): 2, ("-",): 2}
    latency = values(text, "videolib_http_request_duration_seconds_sum", "operation_type")
    assert 0 < latency[("query",)] < 10

    # Every request above handed its connection back; SQLite opens its whole pool at once, MySQL
    # (minsize 1) as many as were needed at the same time, here one.
    in_use, idle, maximum = pool(text)
    assert in_use == 0
    assert maximum == 10
    assert idle == (10 if backend == "sqlite" else 1)

    # Scrapes are not requests of the API: the next one shows the same counts.
    again = scrape(client)
    assert values(again, "videolib_http_requests_total", "operation", "status") == values(
        text, "videolib_http_requests_total", "operation", "status"
    )


def test_mutations_are_their_own_operation_type(client: Any) -> None:
    body = client.post("mutation Out { logout }")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    text = scrape(client)
    assert values(text, "videolib_http_requests_total", "operation", "status") == {("Out", "200"): 1}
    assert values(text, "videolib_http_request_duration_seconds_count", "operation_type") == {
        ("mutation",): 1
    }
    assert values(text, "videolib_graphql_errors_total", "code")[("UNAUTHENTICATED",)] == 1


# --- the pool, read when scraped -----------------------------------------------------------------


def test_pool_gauges_follow_the_connections(db_config: DatabaseConfig) -> None:
    async def scenario() -> list[tuple[float, float, float]]:
        db = make_async_database(db_config, pool_size=4)
        metrics = Metrics(db)
        seen = [pool(generate_latest(metrics.registry).decode())]  # no pool until the first query
        await db.aconnect()
        await db.aexecute_sql("SELECT 1")
        seen.append(pool(generate_latest(metrics.registry).decode()))
        await db.aclose()
        seen.append(pool(generate_latest(metrics.registry).decode()))
        await db.close_pool()
        seen.append(pool(generate_latest(metrics.registry).decode()))
        return seen

    before, holding, released, closed = asyncio.run(scenario())
    assert before == (0, 0, 4)
    if db_config.is_sqlite:  # all four opened at once
        assert (holding, released) == ((1, 3, 4), (0, 4, 4))
    else:  # aiomysql opens minsize (1) and more only on demand
        assert (holding, released) == ((1, 0, 4), (0, 1, 4))
    assert closed == (0, 0, 4)


# --- labels that cannot grow without bound -------------------------------------------------------


def request(name: str | None, path: str = "/graphql", kind: str | None = "query", **more: Any) -> RequestInfo:
    return RequestInfo(
        request_id="r", method="POST", path=path, operation_name=name, operation_type=kind, **more
    )


def test_operation_names_are_capped() -> None:
    metrics = Metrics(None, max_operations=2)
    for name in ("Home", "drop table videos;--", "Catégories", "A" * 65, "Player", "Third", "Fourth", "Home"):
        metrics.observe(request(name), 200, 0.01)
    # A client's name that would read as one of the buckets is not taken at its word.
    metrics.observe(request("other"), 200, 0.01)
    metrics.observe(request(None), 200, 0.01)
    metrics.observe(request(None, path="/healthz", kind=None), 200, 0.01)

    text = generate_latest(metrics.registry).decode()
    assert values(text, "videolib_http_requests_total", "operation", "status") == {
        ("Home", "200"): 2,
        ("Player", "200"): 1,
        ("invalid", "200"): 4,  # the three weird names did not use up the cap
        ("other", "200"): 2,  # Third and Fourth: the cap of 2 was reached
        ("anonymous", "200"): 1,
        ("-", "200"): 1,
    }


def test_other_labels_are_bounded_and_scrapes_are_left_out() -> None:
    metrics = Metrics(None)
    metrics.observe(request("Q", kind="weird", error_codes=["NOT_FOUND", "SOMETHING_NEW"]), 200, 0.5)
    metrics.observe(request(None, path="/metrics", kind=None), 200, 0.5)

    text = generate_latest(metrics.registry).decode()
    assert values(text, "videolib_http_request_duration_seconds_count", "operation_type") == {("other",): 1}
    errors = values(text, "videolib_graphql_errors_total", "code")
    assert (errors[("NOT_FOUND",)], errors[("other",)]) == (1, 1)
    assert values(text, "videolib_http_requests_total", "operation", "status") == {("Q", "200"): 1}
    assert pool(text) == (0, 0, 0)  # nothing to read: no database


def test_each_app_has_its_own_registry() -> None:
    first, second = Metrics(None), Metrics(None)  # the same metric names, registered twice
    first.observe(request("Home"), 200, 0.01)
    assert values(generate_latest(first.registry).decode(), "videolib_http_requests_total", "operation") == {
        ("Home",): 1
    }
    assert (
        values(generate_latest(second.registry).decode(), "videolib_http_requests_total", "operation") == {}
    )


# --- a client that hangs up --------------------------------------------------------------------


def test_a_client_that_hangs_up_mid_body_is_a_499_not_a_server_error(
    settings: Any, db: Any, caplog: Any
) -> None:
    """Starlette raises ClientDisconnect from request.body(): no answer is sent, the access log
    and /metrics count a 499 with no error code, and nothing is logged as an error."""
    from server import create_app

    caplog.set_level(logging.INFO, logger="videolib")
    app = create_app(settings)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"64")]
    cut_off = [
        {"type": "http.request", "body": b'{"query": "{ categ', "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def scenario() -> tuple[list[Any], list[Any]]:
        answered = await call(app, "POST", "/graphql", headers, cut_off)
        return answered, await call(app, "GET", "/metrics")

    try:
        answered, scraped = asyncio.run(scenario())
    finally:
        bind(db)
    assert answered == []
    status, body = status_and_body(scraped)
    assert status == 200
    text = body.decode()
    assert values(text, "videolib_http_requests_total", "operation", "status") == {("anonymous", "499"): 1}
    assert values(text, "videolib_graphql_errors_total", "code") == {(code,): 0 for code in ERROR_CODES}
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert not any(r.exc_info for r in caplog.records)
    [line, _scrape] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "videolib.access"]
    assert (line["path"], line["status"], line["error_codes"]) == ("/graphql", 499, [])
    assert any("client disconnected" in r.getMessage() for r in caplog.records if r.name == "videolib")
