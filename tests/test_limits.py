"""Limits on what one request may cost: refused up front, with BAD_USER_INPUT, before any statement."""

from __future__ import annotations

from typing import Any

from playhouse.test_utils import count_queries

from schema.api import MAX_ALIASES, MAX_DEPTH
from schema.limits import MAX_COST


def _refused(client: Any, query: str, needle: str) -> None:
    with count_queries() as counter:
        error = client.error(query)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert needle in error["message"]
    assert counter.count == 0, [q.msg for q in counter.get_queries()]


def test_nested_pages_that_multiply_past_the_cost_limit_are_refused(client: Any) -> None:
    query = """{ categories { videos(first: 100) { edges { node {
        category { videos(first: 100) { edges { node { id title } } } } } } } } }"""
    _refused(client, query, f"{MAX_COST:,}")


def test_a_home_screen_with_full_pages_is_within_the_cost_limit(client: Any, factory: Any) -> None:
    category = factory.category()
    factory.video(category, factory.admin(), title="Only one")
    query = """{ heroVideo { id } continueWatching(first: 50) { id video { id title } }
        categories { videos(first: 100) { totalCount edges { cursor node { id title viewCount
        uploadedBy { displayName } category { name } reactions { total viewerReaction counts { type count } }
        viewerProgress { lastPosition } } } } } }"""
    data = client.data(query)
    assert [e["node"]["title"] for e in data["categories"][0]["videos"]["edges"]] == ["Only one"]


def test_depth_is_capped(client: Any) -> None:
    nested = "{ heroVideo " + "{ category { videos { edges { node " * 3 + "{ id }" + " } } } }" * 3 + " }"
    assert nested.count("{") > MAX_DEPTH
    _refused(client, nested, "exceeds maximum operation depth")


def test_aliases_are_capped(client: Any) -> None:
    query = "{ " + " ".join(f"a{n}: heroVideo {{ id }}" for n in range(MAX_ALIASES + 1)) + " }"
    _refused(client, query, "aliases")


def test_oversized_bodies_are_refused_with_413(client: Any) -> None:
    padding = "#" + "x" * (300 * 1024) + "\n"
    response = client.http.post("/graphql", json={"query": padding + "{ __typename }"})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_oversized_chunked_bodies_are_refused_with_413(client: Any) -> None:
    def chunks() -> Any:
        yield b'{"query": "{ __typename }", "pad": "'
        for _ in range(300):
            yield b"x" * 1024
        yield b'"}'

    response = client.http.post("/graphql", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_a_body_within_the_limit_is_served(client: Any) -> None:
    padding = "#" + "x" * (100 * 1024) + "\n"
    response = client.http.post("/graphql", json={"query": padding + "{ __typename }"})
    assert response.json() == {"data": {"__typename": "Query"}}


def test_one_sign_in_per_request(client: Any) -> None:
    query = """mutation {
      a: login(email: "a@example.com", password: "password123") { token }
      b: login(email: "b@example.com", password: "password123") { token }
    }"""
    _refused(client, query, "once per request")


def test_unreadable_requests_get_json_errors_with_a_code(client: Any) -> None:
    bad_json = client.http.post(
        "/graphql", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    no_query = client.http.post("/graphql", json={"variables": {}})
    for response in (bad_json, no_query):
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["message"]
