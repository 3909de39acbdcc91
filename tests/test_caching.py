"""Cache hints: public reads are cacheable with the smallest hint, an ETag and 304; anything
signed in, viewer-dependent, failed or writing is private, no-store."""

from __future__ import annotations

from typing import Any

import pytest

from schema.http.caching import HINTS, PRIVATE, matches
from tests.factories import gid

PUBLIC_QUERY = "{ categories { id name videos(first: 2) { edges { node { id title } } } } }"


def _get(client: Any, query: str, **headers: str) -> Any:
    return client.http.get("/graphql", params={"query": query}, headers=headers)


def test_an_anonymous_public_query_is_cacheable_with_an_etag(client: Any, factory: Any) -> None:
    factory.video(factory.category(), factory.admin())
    response = _get(client, PUBLIC_QUERY)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=60"
    assert response.headers["etag"].startswith('"') and len(response.headers["etag"]) == 34
    assert "Authorization" in response.headers["vary"]
    again = _get(client, PUBLIC_QUERY)
    assert again.headers["etag"] == response.headers["etag"]


def test_the_smallest_hint_wins(client: Any) -> None:
    response = _get(client, "{ videos { edges { node { reactions { total } } } } }")
    assert response.headers["cache-control"] == "public, max-age=30"
    schema = _get(client, "{ __schema { queryType { name } } }")
    assert schema.headers["cache-control"] == "public, max-age=300"
    # __typename asks nothing of the data, so it sets no limit.
    assert _get(client, "{ __typename categories { id } }").headers["cache-control"] == "public, max-age=60"


def test_get_revalidation_answers_304_without_a_body(client: Any, factory: Any) -> None:
    factory.video(factory.category(), factory.admin())
    first = _get(client, PUBLIC_QUERY)
    tag = first.headers["etag"]
    for header in (tag, f"W/{tag}", f'"other", {tag}', "*"):
        revalidated = _get(client, PUBLIC_QUERY, **{"If-None-Match": header})
        assert revalidated.status_code == 304, header
        assert revalidated.content == b""
        assert revalidated.headers["etag"] == tag
        assert revalidated.headers["cache-control"] == "public, max-age=60"
    changed = _get(client, PUBLIC_QUERY, **{"If-None-Match": '"stale"'})
    assert changed.status_code == 200
    assert changed.json() == first.json()


def test_the_etag_follows_the_data(client: Any, factory: Any) -> None:
    category = factory.category()
    factory.video(category, factory.admin(), title="One")
    before = _get(client, PUBLIC_QUERY).headers["etag"]
    factory.video(category, factory.admin(), title="Two")
    after = _get(client, PUBLIC_QUERY)
    assert after.headers["etag"] != before
    assert _get(client, PUBLIC_QUERY, **{"If-None-Match": before}).status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "{ me { id } }",
        "{ continueWatching { id } }",
        "{ videos { edges { node { reactions { viewerReaction } } } } }",
        "{ videos { edges { node { viewerProgress { lastPosition } } } } }",
        "{ videos { edges { node { uploadedBy { email } } } } }",
    ],
)
def test_viewer_dependent_fields_are_private(client: Any, query: str) -> None:
    response = _get(client, query)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "private, no-store"
    assert "etag" not in response.headers


def test_a_signed_in_request_is_never_public(client: Any, factory: Any) -> None:
    token = factory.token(factory.user())
    response = _get(client, PUBLIC_QUERY, Authorization=f"Bearer {token}")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-store"
    assert "etag" not in response.headers


def test_mutations_errors_and_refusals_are_never_cacheable(client: Any, factory: Any) -> None:
    video = factory.video(factory.category(), factory.admin())
    query = f'mutation {{ recordView(videoId: "{gid("Video", video)}") {{ viewCount }} }}'
    mutation = client.http.post("/graphql", json={"query": query})
    assert "errors" not in mutation.json(), mutation.text
    assert mutation.headers["cache-control"] == "private, no-store"
    failed = _get(client, '{ node(id: "garbage") { id } }')
    assert failed.json()["errors"]
    assert failed.headers["cache-control"] == "private, no-store"
    refused = client.http.post("/graphql", content=b"x", headers={"Content-Type": "text/plain"})
    assert refused.status_code == 415
    assert refused.headers["cache-control"] == "private, no-store"


def test_post_answers_carry_the_same_policy(client: Any) -> None:
    response = client.http.post("/graphql", json={"query": PUBLIC_QUERY})
    assert response.headers["cache-control"] == "public, max-age=60"


def test_every_hint_names_a_real_field() -> None:
    from schema.api import schema

    graphql_schema = schema._schema
    for key, seconds in HINTS.items():
        type_name, field = key.split(".")
        if field.startswith("__"):
            continue
        named = graphql_schema.get_type(type_name)
        assert named is not None and field in named.fields, key  # type: ignore[union-attr]
        assert seconds == PRIVATE or seconds > 0


def test_if_none_match_parsing() -> None:
    assert matches('"a"', '"a"')
    assert matches('W/"a"', '"a"')
    assert matches(' "b" , "a"', '"a"')
    assert not matches('"b"', '"a"')
    assert not matches(None, '"a"')
    assert not matches("", '"a"')


def test_a_root_field_without_a_hint_is_not_cacheable(monkeypatch: Any) -> None:
    import schema.http.caching as caching
    from schema.api import schema

    policies = caching.CachePolicies(schema._schema)
    assert policies.policy("{ categories { id } }", None).header(anonymous=True) == "public, max-age=60"
    monkeypatch.delitem(caching.HINTS, "Query.categories")
    fresh = caching.CachePolicies(schema._schema)
    assert fresh.policy("{ categories { id } }", None).header(anonymous=True) == "private, no-store"
    # A hint-less field below a hinted root takes its parent's.
    assert fresh.policy("{ heroVideo { title } }", None).header(anonymous=True) == "public, max-age=60"
