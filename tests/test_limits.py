"""Limits on what one request may cost: refused up front, with BAD_USER_INPUT, before any statement."""

from __future__ import annotations

from typing import Any

import pytest
from playhouse.test_utils import count_queries

from resolvers.config import Limits

MAX_ALIASES = Limits().max_aliases
MAX_DEPTH = Limits().max_depth
MAX_COST = Limits().max_cost


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
    _refused(
        client, nested, "This operation nests fields 13 deep, more than the limit of 10 (VIDEOLIB_MAX_DEPTH)"
    )
    named = "query Deep " + nested
    _refused(client, named, "Operation 'Deep' nests fields 13 deep")


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


# --- configuration, and documents that describe far more than they spell out -----------------


def test_every_limit_is_read_from_its_environment_variable(monkeypatch: Any) -> None:
    from resolvers.config import ENVIRONMENT, load_settings

    values = {name: str(10 + n) for n, name in enumerate(ENVIRONMENT)}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("VIDEOLIB_INTROSPECTION", "false")
    monkeypatch.setenv("VIDEOLIB_CORS_ORIGINS", "https://app.example.com, http://localhost:5173/")
    settings = load_settings("sqlite:///:memory:")
    for name, field in ENVIRONMENT.items():
        assert getattr(settings.limits, field) == int(values[name]), name
    assert settings.introspection is False
    assert settings.cors_origins == ("https://app.example.com", "http://localhost:5173")


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("VIDEOLIB_MAX_DEPTH", "deep", "whole number"),
        ("VIDEOLIB_MAX_DEPTH", "0", "at least 1"),
        ("VIDEOLIB_MAX_BATCH", "-1", "at least 0"),
        ("VIDEOLIB_INTROSPECTION", "maybe", "true or false"),
        ("VIDEOLIB_CORS_ORIGINS", "*", "full origins"),
        ("VIDEOLIB_DB_READ_TIMEOUT", "0", "more than 0"),
    ],
)
def test_bad_limit_values_are_one_line_errors(monkeypatch: Any, name: str, value: str, needle: str) -> None:
    from models.database import ConfigError
    from resolvers.config import load_settings

    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=needle):
        load_settings("sqlite:///:memory:")


def test_limits_follow_the_settings(settings: Any, db: Any) -> None:
    import dataclasses

    from starlette.testclient import TestClient

    from models.database import bind
    from server import create_app

    tight = dataclasses.replace(settings, limits=Limits(max_depth=2, max_aliases=1, max_cost=50))
    with TestClient(create_app(tight)) as http:

        def errors(query: str) -> str:
            return " | ".join(
                e["message"] for e in http.post("/graphql", json={"query": query}).json()["errors"]
            )

        assert "more than the limit of 2 (VIDEOLIB_MAX_DEPTH)" in errors(
            "{ heroVideo { category { videos { totalCount } } } }"
        )
        two = "{ a: heroVideo { id } b: heroVideo { id } }"
        assert "more than the limit of 1 (VIDEOLIB_MAX_ALIASES)" in errors(two)
        assert "limit of 50" in errors("{ categories { id name slug } }")
        ok = http.post("/graphql", json={"query": "{ a: heroVideo { id } }"}).json()
        assert ok == {"data": {"a": None}}
    bind(db)


def test_the_contract_screens_fit_the_default_depth(client: Any) -> None:
    home = """query Home { heroVideo { id } categories { id videos(first: 25) { totalCount
      pageInfo { hasNextPage endCursor } edges { cursor node { id title uploadedBy { displayName }
      reactions { total viewerReaction counts { type count } } viewerProgress { lastPosition } } } } } }"""
    assert "errors" not in client.post(home)


def test_a_fragment_bomb_is_refused_quickly(client: Any) -> None:
    """2^30 fields in 30 lines: measured once per fragment, so refused in milliseconds."""
    n = 30
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(n)]
    query = "{ ...F0 }\n" + "\n".join([*fragments, f"fragment F{n} on Query {{ __typename }}"])
    _refused(client, query, f"{MAX_COST:,}")


def test_introspection_is_measured_too(client: Any) -> None:
    from graphql import get_introspection_query

    full = get_introspection_query(descriptions=True, input_value_deprecation=True)
    assert "errors" not in client.post(full)
    nested = "{ __schema { types " + "{ fields { type " * 3 + "{ fields { name } }" + " } }" * 3 + " } }"
    _refused(client, nested, "fields, more than the limit")
