"""Every database test runs twice: on a fresh SQLite file and on a fresh MariaDB/MySQL database.

The MySQL half uses TEST_MYSQL_URL (default mysql://root@127.0.0.1:3306/test) only to reach
the server: each session creates its own uniquely named database and drops it afterwards.
With REQUIRE_MYSQL=1 an unreachable server fails the MySQL half instead of skipping it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import peewee
import pymysql
import pytest

from models import ALL_MODELS
from models import migrate as migrations
from models.database import DatabaseConfig, bind, make_sync_database, parse_url
from schema.execution.executor import VERIFY

BACKENDS = ("sqlite", "mysql")


@pytest.fixture(autouse=True)
def compiled_completions_match_graphql_core() -> Iterator[None]:
    """Every test is also a differential test of the compiled execution plans
    (schema/execution/): each object a plan completes is completed by graphql-core too, and the
    test fails on any difference in data, errors or propagation. Servers in a subprocess
    (tests/live_server.py) run without the check."""
    mismatches: list[str] = []
    VERIFY.mismatches = mismatches
    try:
        yield
    finally:
        VERIFY.mismatches = None
    assert not mismatches, "compiled execution differs from graphql-core:\n" + "\n".join(mismatches)
MYSQL_URL = os.environ.get("TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
REQUIRE_MYSQL = os.environ.get("REQUIRE_MYSQL") == "1"


def _mysql_server() -> DatabaseConfig:
    return parse_url(MYSQL_URL)


def _mysql_admin(config: DatabaseConfig) -> pymysql.connections.Connection:
    return pymysql.connect(
        host=config.host,
        port=config.port,
        user=config.user,
        password=config.password,
        autocommit=True,
        connect_timeout=5,
    )


def _mysql_unavailable(reason: str) -> None:
    message = f"MariaDB/MySQL is not reachable at {MYSQL_URL}: {reason}"
    if REQUIRE_MYSQL:
        pytest.fail(message + " (REQUIRE_MYSQL=1)", pytrace=False)
    pytest.skip(message)


def create_database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> DatabaseConfig:
    """A new, empty database with a unique name."""
    name = f"videolib_test_{uuid.uuid4().hex[:12]}"
    if backend == "sqlite":
        return DatabaseConfig("sqlite", str(tmp_path_factory.mktemp("db") / f"{name}.db"))
    server = _mysql_server()
    try:
        conn = _mysql_admin(server)
    except pymysql.err.OperationalError as exc:
        _mysql_unavailable(str(exc))
    with conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    return server.with_name(name)


def drop_database(config: DatabaseConfig) -> None:
    if config.is_sqlite:
        return  # tmp_path_factory cleans the file up
    with _mysql_admin(config) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{config.name}`")


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def db_config(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseConfig]:
    """The session's migrated database for this backend."""
    config = create_database(backend, tmp_path_factory)
    db = make_sync_database(config)
    migrations.apply(db)
    db.close()
    yield config
    drop_database(config)


@pytest.fixture(scope="session")
def sync_db(db_config: DatabaseConfig) -> Iterator[peewee.Database]:
    db = make_sync_database(db_config)
    yield db
    db.close()


@pytest.fixture
def fresh_db_config(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseConfig]:
    """An empty, unmigrated database of its own, for migration and CLI tests."""
    config = create_database(backend, tmp_path_factory)
    yield config
    drop_database(config)


# Children first, so foreign keys never refuse the cleanup.
_CLEANUP_ORDER = tuple(reversed(ALL_MODELS))


@pytest.fixture
def db(sync_db: peewee.Database) -> Iterator[peewee.Database]:
    """The migrated database, bound to the models, emptied after the test."""
    bind(sync_db)
    yield sync_db
    bind(sync_db)
    with sync_db.atomic():
        for model in _CLEANUP_ORDER:
            model.delete().execute()


# --- the API over HTTP ---------------------------------------------------------------------

SECRET_KEY = b"test-secret-key-0123456789abcdef-0123456789"


class GraphQLClient:
    """Starlette's TestClient, posting GraphQL."""

    def __init__(self, http: Any) -> None:
        self.http = http

    def post(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def data(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """The data of a query that must succeed."""
        body = self.post(query, variables, token)
        assert "errors" not in body, body["errors"]
        return dict(body["data"])

    def error(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """The single error of a query that must fail; its extensions.code is asserted by the caller."""
        body = self.post(query, variables, token)
        assert body.get("errors"), body
        return dict(body["errors"][0])


@pytest.fixture
def settings(db_config: DatabaseConfig) -> Any:
    from resolvers.config import Settings

    return Settings(database=db_config, secret_key=SECRET_KEY)


@pytest.fixture
def factory(db: peewee.Database) -> Any:
    from tests.factories import Factory

    return Factory(db, SECRET_KEY)


@pytest.fixture
def client(settings: Any, db: peewee.Database) -> Iterator[GraphQLClient]:
    """The app over HTTP; the models are bound to its async database while it runs."""
    from starlette.testclient import TestClient

    from server import create_app

    with TestClient(create_app(settings)) as http:
        yield GraphQLClient(http)
    bind(db)
