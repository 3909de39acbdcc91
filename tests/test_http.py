"""GraphQL over HTTP: media types, status codes, CSRF, CORS, batching, request ids, the access log
and error masking, through the real app."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import peewee
import pytest
from starlette.testclient import TestClient

from models.database import bind
from resolvers.config import Limits, Settings
from schema.http.negotiation import GRAPHQL_RESPONSE, JSON, response_type

GQL = {"Accept": GRAPHQL_RESPONSE}


@contextmanager
def app_with(settings: Settings, db: peewee.Database, **changes: Any) -> Iterator[TestClient]:
    from server import create_app

    with TestClient(create_app(dataclasses.replace(settings, **changes))) as http:
        yield http
    bind(db)


# --- negotiation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        ("application/json", JSON),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0.5, application/json", JSON),
        (f"{GRAPHQL_RESPONSE};q=0, */*", JSON),
        ("application/json;q=0, */*", GRAPHQL_RESPONSE),
        ("text/csv", None),
        ("text/html", None),
        ("application/json;q=0", None),
    ],
)
def test_response_type_follows_accept(accept: str | None, expected: str | None) -> None:
    assert response_type(accept) == expected


def test_graphql_response_json_is_answered_in_kind(client: Any) -> None:
    response = client.http.post("/graphql", json={"query": "{ __typename }"}, headers=GQL)
    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert response.json() == {"data": {"__typename": "Query"}}
    assert "Accept" in response.headers["vary"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"query": "{ __typename "}, "Syntax Error"),
        ({"query": "{ noSuchField }"}, "noSuchField"),
        ({"query": "query($n: Int!) { videos(first: $n) { totalCount } }", "variables": {"n": "x"}}, "$n"),
    ],
)
def test_request_errors_are_400_under_graphql_response_json_and_200_under_json(
    client: Any, body: dict[str, Any], needle: str
) -> None:
    strict = client.http.post("/graphql", json=body, headers=GQL)
    assert strict.status_code == 400, strict.text
    assert "data" not in strict.json()
    [error] = strict.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert needle in error["message"]
    legacy = client.http.post("/graphql", json=body, headers={"Accept": JSON})
    assert legacy.status_code == 200
    assert legacy.headers["content-type"] == JSON
    assert legacy.json()["errors"] == strict.json()["errors"]


def test_a_bad_token_is_401_under_graphql_response_json(client: Any) -> None:
    response = client.http.post(
        "/graphql", json={"query": "{ me { id } }"}, headers={**GQL, "Authorization": "Bearer nope"}
    )
    assert response.status_code == 401
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["UNAUTHENTICATED"]


INVALID_TOKEN_CHALLENGE = (
    'Bearer error="invalid_token", error_description="the token is invalid, expired or revoked"'
)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_401_tells_the_client_to_send_a_bearer_token(client: Any, factory: Any, method: str) -> None:
    """RFC 6750, section 3: a 401 carries WWW-Authenticate: Bearer, with error="invalid_token"
    when the Bearer token sent is malformed, unknown or expired."""
    expired = factory.token(factory.user(), ttl=-60)
    signed_out = factory.token(factory.user())
    assert client.post("mutation { logout }", token=signed_out)["data"] == {"logout": True}

    def ask(authorization: str) -> Any:
        headers = {**GQL, "Authorization": authorization}
        if method == "GET":
            return client.http.get("/graphql", params={"query": "{ me { id } }"}, headers=headers)
        return client.http.post("/graphql", json={"query": "{ me { id } }"}, headers=headers)

    for token in ("nope", "vl_" + "x" * 43, expired, signed_out):
        response = ask(f"Bearer {token}")
        assert response.status_code == 401, token
        assert response.headers["www-authenticate"] == INVALID_TOKEN_CHALLENGE, token
        assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["UNAUTHENTICATED"]
    # No Bearer token at all (another scheme, or the scheme alone): RFC 6750 gives no error code.
    for authorization in ("Basic YWRhOnNlY3JldA==", "Bearer"):
        response = ask(authorization)
        assert response.status_code == 401, authorization
        assert response.headers["www-authenticate"] == "Bearer", authorization


def test_answers_that_are_not_401_carry_no_challenge(client: Any, factory: Any) -> None:
    # Legacy JSON answers a bad token 200 (with UNAUTHENTICATED), and a challenge needs a 401.
    legacy = client.http.post(
        "/graphql", json={"query": "{ me { id } }"}, headers={"Accept": JSON, "Authorization": "Bearer nope"}
    )
    assert legacy.status_code == 200 and "www-authenticate" not in legacy.headers
    # A signed-in-only mutation sent anonymously is a field error: the operation ran, 200.
    anonymous = client.http.post("/graphql", json={"query": "mutation { logout }"}, headers=GQL)
    assert anonymous.status_code == 200 and "www-authenticate" not in anonymous.headers
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    good = client.http.post(
        "/graphql",
        json={"query": "{ me { id } }"},
        headers={**GQL, "Authorization": f"Bearer {factory.token(factory.user())}"},
    )
    assert good.status_code == 200 and "www-authenticate" not in good.headers


# --- GET / ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("accept", [None, "*/*", JSON])
def test_the_root_points_api_clients_to_graphql(client: Any, accept: str | None) -> None:
    response = client.http.get("/", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    assert response.json() == {
        "message": "videolib: send GraphQL to /graphql",
        "graphql": "/graphql",
        "health": "/healthz",
    }
    assert response.headers["vary"] == "Accept"


def test_the_root_gives_a_browser_a_link_to_graphql(client: Any) -> None:
    response = client.http.get("/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<a href="/graphql">/graphql</a>' in response.text
    assert response.headers["content-security-policy"] == "default-src 'none'"
    # The link leads to GraphiQL.
    page = client.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


def test_field_errors_still_answer_200_with_data(client: Any, factory: Any) -> None:
    body = {"query": '{ me { id } video(id: "VmlkZW86OTk5OTk=") { id } }'}
    response = client.http.post("/graphql", json=body, headers=GQL)
    assert response.status_code == 200
    assert response.json()["data"] == {"me": None, "video": None}


def test_nothing_acceptable_is_406(client: Any) -> None:
    response = client.http.post("/graphql", json={"query": "{ __typename }"}, headers={"Accept": "text/csv"})
    assert response.status_code == 406
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_mutations_over_get_are_405_with_allow(client: Any) -> None:
    response = client.http.get("/graphql", params={"query": "mutation { logout }"}, headers=GQL)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.headers["content-type"] == GRAPHQL_RESPONSE


def test_queries_over_get_are_served(client: Any) -> None:
    params = {"query": "query Q($n: Int) { videos(first: $n) { totalCount } }", "variables": '{"n": 1}'}
    response = client.http.get("/graphql", params=params, headers=GQL)
    assert response.status_code == 200
    assert response.json() == {"data": {"videos": {"totalCount": 0}}}
    bad = client.http.get("/graphql", params={"query": "{ __typename }", "variables": "{nope"}, headers=GQL)
    assert bad.status_code == 400
    assert "variables" in bad.json()["errors"][0]["message"]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_405(client: Any, method: str) -> None:
    response = client.http.request(method, "/graphql")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# --- CSRF: what a browser sends cross-site without a preflight is refused ---------------------


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("text/plain", b'{"query": "mutation { logout }"}'),
        ("application/x-www-form-urlencoded", b"query=mutation+%7B+logout+%7D"),
        (
            "multipart/form-data; boundary=x",
            b'--x\r\nContent-Disposition: form-data; name="query"\r\n\r\n{}\r\n--x--',
        ),
        (None, b'{"query": "{ __typename }"}'),
    ],
)
def test_simple_request_content_types_are_415(client: Any, content_type: str | None, content: bytes) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    with_count = client.http.post("/graphql", content=content, headers=headers)
    assert with_count.status_code == 415
    [error] = with_count.json()["errors"]
    assert "application/json" in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


# --- batching -----------------------------------------------------------------------------------


def test_batching_is_off_by_default(client: Any) -> None:
    response = client.http.post("/graphql", json=[{"query": "{ __typename }"}])
    assert response.status_code == 400
    assert "Batching is turned off" in response.json()["errors"][0]["message"]


def test_batching_can_be_turned_on_with_a_cap(settings: Settings, db: peewee.Database) -> None:
    with app_with(settings, db, limits=Limits(max_batch=2)) as http:
        two = http.post("/graphql", json=[{"query": "{ __typename }"}, {"query": "{ me { id } }"}])
        assert two.status_code == 200
        assert two.json() == [{"data": {"__typename": "Query"}}, {"data": {"me": None}}]
        three = http.post("/graphql", json=[{"query": "{ __typename }"}] * 3)
        assert three.status_code == 400
        assert "1 to 2 operations" in three.json()["errors"][0]["message"]
        broken = http.post("/graphql", json=[{"query": "{ __typename }"}, {"variables": {}}])
        assert broken.json()[0] == {"data": {"__typename": "Query"}}
        assert broken.json()[1]["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# --- CORS -----------------------------------------------------------------------------------------

APP_ORIGIN = "https://app.example.com"


def test_no_cors_headers_by_default(client: Any) -> None:
    response = client.http.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": APP_ORIGIN})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_cors_allows_the_configured_origin_only(settings: Settings, db: peewee.Database) -> None:
    with app_with(settings, db, cors_origins=(APP_ORIGIN,)) as http:
        preflight = http.options(
            "/graphql",
            headers={
                "Origin": APP_ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type, authorization",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == APP_ORIGIN
        assert "POST" in preflight.headers["access-control-allow-methods"]
        post = http.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": APP_ORIGIN})
        assert post.headers["access-control-allow-origin"] == APP_ORIGIN
        # Never credentials: tokens travel in Authorization, which a browser does not attach itself.
        assert "access-control-allow-credentials" not in post.headers

        evil = "https://evil.example.net"
        refused = http.options("/graphql", headers={"Origin": evil, "Access-Control-Request-Method": "POST"})
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        other = http.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": evil})
        assert "access-control-allow-origin" not in other.headers
        assert "access-control-allow-credentials" not in other.headers


# --- introspection and GraphiQL --------------------------------------------------------------


def test_introspection_and_graphiql_are_on_by_default(client: Any) -> None:
    page = client.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    body = client.post("{ __schema { queryType { name } } }")
    assert body == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


def test_introspection_off_turns_off_graphiql_too(settings: Settings, db: peewee.Database) -> None:
    with app_with(settings, db, introspection=False) as http:
        page = http.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 404
        refused = http.post("/graphql", json={"query": "{ __schema { queryType { name } } }"}).json()
        assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "introspection" in refused["errors"][0]["message"].lower()
        assert http.post("/graphql", json={"query": "{ __typename }"}).json() == {
            "data": {"__typename": "Query"}
        }


# --- request ids, masking, the access log -----------------------------------------------------


def test_every_response_carries_a_request_id(client: Any) -> None:
    first = client.http.post("/graphql", json={"query": "{ __typename }"})
    second = client.http.get("/healthz")
    assert len(first.headers["x-request-id"]) == 32
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    kept = client.http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"X-Request-ID": "edge-42.a_b"}
    )
    assert kept.headers["x-request-id"] == "edge-42.a_b"
    replaced = client.http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"X-Request-ID": "x" * 65}
    )
    assert len(replaced.headers["x-request-id"]) == 32


LEAKS = ("SELECT", "FROM", "Traceback", "IntegrityError", "UNIQUE", "secret-detail", "File ")


@pytest.mark.parametrize(
    "failure",
    [
        RuntimeError("secret-detail in SELECT * FROM videos"),
        peewee.IntegrityError("UNIQUE constraint failed: videos.secret-detail"),
    ],
)
def test_unexpected_exceptions_are_masked_with_a_request_id(
    client: Any, factory: Any, monkeypatch: Any, caplog: Any, failure: Exception
) -> None:
    import schema.videos

    category = factory.category()
    factory.video(category, factory.admin())

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise failure

    monkeypatch.setattr(schema.videos.resolve, "list_videos", broken)
    caplog.set_level(logging.ERROR, logger="videolib")
    response = client.http.post("/graphql", json={"query": "{ videos { totalCount } }"}, headers=GQL)
    assert response.status_code == 200  # executed: a field error, with data
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"] == "Internal server error"
    assert error["extensions"] == {
        "code": "INTERNAL_SERVER_ERROR",
        "requestId": response.headers["x-request-id"],
    }
    assert not any(leak in response.text for leak in LEAKS), response.text
    logged = [r for r in caplog.records if r.exc_info and r.exc_info[1] is failure]
    assert logged, "the trace must reach the server log"
    assert logged[0].request_id == response.headers["x-request-id"]


def test_an_exception_outside_graphql_is_a_json_500_with_a_request_id(
    client: Any, monkeypatch: Any, caplog: Any
) -> None:
    from schema.http.view import GraphQLEndpoint

    async def broken(self: Any, request: Any) -> Any:
        raise RuntimeError("secret-detail")

    monkeypatch.setattr(GraphQLEndpoint, "handle", broken)
    caplog.set_level(logging.ERROR, logger="videolib")
    response = client.http.post("/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 500
    [error] = response.json()["errors"]
    assert error == {
        "message": "Internal server error",
        "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": response.headers["x-request-id"]},
    }
    assert "secret-detail" not in response.text
    assert any("secret-detail" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def _access_lines(caplog: Any) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "videolib.access"]


def test_one_access_log_line_per_request(client: Any, factory: Any, caplog: Any) -> None:
    category = factory.category()
    factory.video(category, factory.admin())
    caplog.set_level(logging.INFO, logger="videolib.access")
    query = "query HomeRows { categories { videos(first: 5) { edges { node { id uploadedBy { id } } } } } }"
    ok = client.http.post("/graphql", json={"query": query})
    refused = client.http.post("/graphql", content=b"x", headers={"Content-Type": "text/plain"})
    assert "errors" not in ok.json()
    [home, bad] = _access_lines(caplog)
    assert home["request_id"] == ok.headers["x-request-id"]
    assert [r.request_id for r in caplog.records if r.name == "videolib.access"] == [
        ok.headers["x-request-id"],
        refused.headers["x-request-id"],
    ]
    assert home["operation"] == "HomeRows"
    assert home["operation_type"] == "query"
    assert home["status"] == 200
    assert home["method"] == "POST" and home["path"] == "/graphql"
    # categories, then one page statement for every row (uploader joined in): see test_statement_counts.
    assert home["sql_statements"] == 2
    assert home["duration_ms"] > 0
    assert bad["status"] == 415
    assert bad["sql_statements"] == 0
    assert bad["error_codes"] == ["BAD_USER_INPUT"]
    assert bad["request_id"] == refused.headers["x-request-id"]


def test_an_oversized_body_is_a_json_413_with_an_id(client: Any, caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="videolib.access")
    response = client.http.post("/graphql", json={"query": "#" + "x" * (300 * 1024) + "\n{ __typename }"})
    assert response.status_code == 413
    [error] = response.json()["errors"]
    assert "VIDEOLIB_MAX_BODY_BYTES" in error["message"]
    [line] = _access_lines(caplog)
    assert line["status"] == 413
    assert line["request_id"] == response.headers["x-request-id"]


def test_several_operations_need_an_operation_name(client: Any) -> None:
    document = "query A { __typename } query B { categories { id } }"
    refused = client.http.post("/graphql", json={"query": document}, headers=GQL)
    assert refused.status_code == 400
    assert "operationName" in refused.json()["errors"][0]["message"]
    chosen = client.http.post("/graphql", json={"query": document, "operationName": "B"}, headers=GQL)
    assert chosen.json() == {"data": {"categories": []}}
