"""Database faults on MariaDB: killed and timed-out connections, and a database that is gone.

A live server talks to MariaDB through tests/tcp_proxy.py, which the test breaks on purpose: the
MariaDB server is shared with other tests running at the same time, so it is never stopped. The
proxy hides the database's hang-ups from the server (conceal_closes) so that the request after a
KILL or an idle timeout really meets the dead connection, as it does when no FIN reaches the client
(a NAT or firewall in between, or a request racing the hang-up); otherwise aiomysql's pool drops
the connection beforehand and nothing would be exercised. Small timeouts keep the file short.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pymysql
import pytest

from models import User
from models.database import DatabaseConfig
from schema.errors import INTERNAL_MESSAGE
from tests.live_server import live_server
from tests.tcp_proxy import TcpProxy

CONNECT_TIMEOUT = 1.0
READ_TIMEOUT = 1.0
# A failed request may wait out one connect and one answer; beyond this something was unbounded.
PROMPT = CONNECT_TIMEOUT + READ_TIMEOUT + 1.0
# Without bounded timeouts a request against the black hole would hang: fail instead.
CLIENT_TIMEOUT = 15.0

# Its top-level fields are read at once, on connections of their own: the pool holds several.
SCREEN = "{ categories { name } videos(first: 5) { totalCount edges { node { title } } } }"
REGISTER = """mutation ($email: String!) {
  register(input: {email: $email, password: "correct horse battery", displayName: "Ada"}) {
    token user { displayName } } }"""


@pytest.fixture
def proxy(backend: str, db_config: DatabaseConfig) -> Iterator[TcpProxy]:
    if backend != "mysql":
        pytest.skip("connection faults are staged between the server and MariaDB/MySQL only")
    with TcpProxy(db_config.host, db_config.port) as running:
        yield running


@pytest.fixture
def server_settings(settings: Any, db_config: DatabaseConfig, proxy: TcpProxy) -> Any:
    """The test's settings, with the database reached through the proxy and small timeouts."""
    return dataclasses.replace(
        settings,
        database=dataclasses.replace(db_config, port=proxy.port),
        db_connect_timeout=CONNECT_TIMEOUT,
        db_read_timeout=READ_TIMEOUT,
    )


@pytest.fixture
def admin(db_config: DatabaseConfig) -> Iterator[Any]:
    """A cursor on MariaDB directly, not through the proxy."""
    conn = pymysql.connect(
        host=db_config.host,
        port=db_config.port,
        user=db_config.user,
        password=db_config.password,
        autocommit=True,
    )
    with conn, conn.cursor() as cur:
        yield cur


@pytest.fixture
def shelf(factory: Any) -> Any:
    """What SCREEN shows."""
    nature = factory.category(name="Nature", sort_order=1)
    factory.category(name="Space", sort_order=2)
    factory.video(nature, factory.admin(), title="Aurora")
    return {"names": ["Nature", "Space"], "total": 1, "titles": ["Aurora"]}


def _post(base_url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = httpx.post(
        f"{base_url}/graphql", json={"query": query, "variables": variables or {}}, timeout=CLIENT_TIMEOUT
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _screen(base_url: str) -> dict[str, Any]:
    body = _post(base_url, SCREEN)
    assert "errors" not in body, body["errors"]
    videos = body["data"]["videos"]
    return {
        "names": [c["name"] for c in body["data"]["categories"]],
        "total": videos["totalCount"],
        "titles": [e["node"]["title"] for e in videos["edges"]],
    }


def _health(base_url: str) -> tuple[int, Any]:
    response = httpx.get(f"{base_url}/healthz", timeout=CLIENT_TIMEOUT)
    return response.status_code, response.json()


def _assert_masked(body: dict[str, Any]) -> None:
    """An error for the database's failure, saying nothing about it: no SQL, driver or trace."""
    assert body.get("errors"), body
    for error in body["errors"]:
        assert error["message"] == INTERNAL_MESSAGE, error
        assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR", error


def _sessions(admin: Any, ports: set[int]) -> list[int]:
    """MariaDB's ids of the sessions opened through the proxy (from those client ports)."""
    admin.execute("SELECT ID, HOST FROM information_schema.PROCESSLIST")
    return [
        pk for pk, host in admin.fetchall() if host and host.rpartition(":")[2] in {str(p) for p in ports}
    ]


def _wait_gone(admin: Any, ports: set[int]) -> None:
    deadline = time.monotonic() + 5
    while _sessions(admin, ports):
        assert time.monotonic() < deadline, "MariaDB did not end the sessions"
        time.sleep(0.05)


def _kill_server_sessions(admin: Any, proxy: TcpProxy) -> None:
    ports = proxy.upstream_ports()
    killed = _sessions(admin, ports)
    # More than one: a retry that took another pooled connection would meet a dead one again.
    assert len(killed) >= 2, killed
    for pk in killed:
        admin.execute(f"KILL {pk}")
    _wait_gone(admin, ports)


def test_a_killed_connection_is_survived_by_the_request_that_meets_it(
    server_settings: Any, proxy: TcpProxy, admin: Any, shelf: Any
) -> None:
    proxy.conceal_closes = True
    with live_server(server_settings) as base_url:
        assert _screen(base_url) == shelf
        _kill_server_sessions(admin, proxy)
        assert _screen(base_url) == shelf  # read again on a fresh connection
        assert _health(base_url) == (200, {"status": "ok"})
        _kill_server_sessions(admin, proxy)
        assert _health(base_url) == (200, {"status": "ok"})  # the health check meets it this time
        assert _screen(base_url) == shelf


def test_an_idle_timeout_is_survived(server_settings: Any, proxy: TcpProxy, admin: Any, shelf: Any) -> None:
    proxy.conceal_closes = True
    admin.execute("SELECT @@GLOBAL.wait_timeout")
    (old,) = admin.fetchone()
    with live_server(server_settings) as base_url:
        # Sessions take the global value when they open: only the server's first ones get 2s, and
        # the shared server is back to normal for everyone else at once.
        admin.execute("SET GLOBAL wait_timeout = 2")
        try:
            assert _screen(base_url) == shelf
        finally:
            admin.execute(f"SET GLOBAL wait_timeout = {int(old)}")
        ports = proxy.upstream_ports()
        assert len(_sessions(admin, ports)) >= 2
        _wait_gone(admin, ports)  # MariaDB hung up on the idle sessions
        assert _health(base_url) == (200, {"status": "ok"})
        assert _screen(base_url) == shelf


def test_a_transaction_runs_again_only_when_nothing_was_committed(
    server_settings: Any, proxy: TcpProxy, admin: Any, factory: Any
) -> None:
    proxy.conceal_closes = True
    with live_server(server_settings) as base_url:
        assert _screen(base_url) == {"names": [], "total": 0, "titles": []}
        # Lost before COMMIT: the uncommitted work went with the connection; all of it runs again.
        _kill_server_sessions(admin, proxy)
        body = _post(base_url, REGISTER, {"email": "ada@example.com"})
        assert "errors" not in body, body["errors"]
        assert body["data"]["register"]["user"] == {"displayName": "Ada"}
        # Lost while COMMIT was answered: it may have committed (it did), so it is not run again,
        # which would have answered CONFLICT for the caller's own new account.
        proxy.lose_reply_to(b"COMMIT")
        _assert_masked(_post(base_url, REGISTER, {"email": "grace@example.com"}))
    with factory.bound():
        assert sorted(u.email for u in User.select()) == ["ada@example.com", "grace@example.com"]


def test_an_unreachable_database_fails_promptly_and_is_recovered_from(
    server_settings: Any, proxy: TcpProxy, factory: Any, shelf: Any
) -> None:
    def unavailable(base_url: str) -> None:
        for request in (
            lambda: _health(base_url),
            lambda: _post(base_url, SCREEN),
            lambda: _post(base_url, REGISTER, {"email": "lin@example.com"}),
        ):
            started = time.monotonic()
            answer = request()
            elapsed = time.monotonic() - started
            assert elapsed < PROMPT, f"{elapsed:.1f}s"
            if isinstance(answer, tuple):
                assert answer == (503, {"status": "unavailable"})
            else:
                _assert_masked(answer)
                assert answer["data"] is None

    def available(base_url: str) -> None:
        assert _health(base_url) == (200, {"status": "ok"})
        assert _screen(base_url) == shelf

    with live_server(server_settings) as base_url:
        available(base_url)
        proxy.refuse()  # down: connections reset, new ones refused
        unavailable(base_url)
        proxy.forward()
        available(base_url)
        proxy.blackhole()  # gone silent: only the server's own timeouts end a wait
        unavailable(base_url)
        proxy.forward()
        available(base_url)
    with factory.bound():
        assert not User.select().where(User.email == "lin@example.com").exists()
