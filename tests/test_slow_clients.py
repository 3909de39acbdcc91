"""Slow and idle clients cannot hold a server's connections for ever.

`videolib serve` runs in a subprocess on a free port, with timeouts of a second, and raw sockets
play the clients an HTTP library will not: one that trickles its headers or its body a byte at a
time, one that connects and says nothing, and more connections than the server takes. Each is
asserted to be cut off within a generous bound, never at a precise time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from models.database import DatabaseConfig, bind
from resolvers.config import Connections, load_connections
from tests.asgi_calls import call, status_and_body
from tests.test_metrics import values

ROOT = Path(__file__).resolve().parent.parent
SECRET = "test-secret-key-that-is-long-enough-0123456789"
TIMEOUTS = {
    "VIDEOLIB_HEADER_TIMEOUT_SECONDS": "1",
    "VIDEOLIB_BODY_TIMEOUT_SECONDS": "1",
    "VIDEOLIB_KEEPALIVE_SECONDS": "1",
}
# Generous next to the one-second timeouts: a loaded machine still makes it, and a server that
# never cuts anyone off (before this was fixed) fails the test instead of hanging it.
BOUND = 15.0
# Below uvicorn's own keep-alive timeout of 5 s, so that the test shows ours is applied.
KEEPALIVE_BOUND = 4.0
TRICKLE_EVERY = 0.25
# A loaded machine (the whole suite, other work) can take many seconds to start a Python process.
STARTUP_TIMEOUT = 60.0


def url_of(config: DatabaseConfig) -> str:
    if config.is_sqlite:
        return f"sqlite:///{config.name}"
    password = f":{config.password}" if config.password else ""
    return f"mysql://{config.user}{password}@{config.host}:{config.port}/{config.name}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(config: DatabaseConfig, log: Path, **env: str) -> Iterator[tuple[str, int]]:
    """`videolib serve` on a free port until the block ends, then stopped by its PID."""
    port = _free_port()
    environ = {**os.environ, "DATABASE_URL": url_of(config), "VIDEOLIB_SECRET_KEY": SECRET, **env}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "server.py"), "serve", "--port", str(port)],
            env=environ,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).raise_for_status()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    state = "exited" if proc.poll() is not None else f"not up after {STARTUP_TIMEOUT}s"
                    raise RuntimeError(f"serve {state}:\n{log.read_text()}") from None
                time.sleep(0.1)
        yield "127.0.0.1", port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert "Traceback" not in log.read_text()


@pytest.fixture(scope="module")
def server(db_config: DatabaseConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    with serving(db_config, tmp_path_factory.mktemp("serve") / "serve.log", **TIMEOUTS) as address:
        yield address


def connect(address: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(address, timeout=BOUND)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def until_closed(sock: socket.socket, bound: float = BOUND) -> bytes:
    """Everything the server sends until it closes the connection, which it must within `bound`."""
    received = b""
    deadline = time.monotonic() + bound
    while True:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            raise AssertionError(f"the connection was still open after {bound}s") from None
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk


def trickle(sock: socket.socket, data: bytes) -> bytes:
    """Sends `data` a byte every TRICKLE_EVERY seconds until the server answers or hangs up, then
    returns what it sent before closing. Still sending after BOUND fails: the server waited on."""
    deadline = time.monotonic() + BOUND
    sock.settimeout(TRICKLE_EVERY)
    for i in range(len(data)):
        assert time.monotonic() < deadline, f"the server still read a trickle after {BOUND}s"
        try:
            sock.sendall(data[i : i + 1])
            first = sock.recv(65536)
        except TimeoutError:
            continue  # nothing yet: the next byte
        except (BrokenPipeError, ConnectionResetError):
            return until_closed(sock)
        return first + until_closed(sock) if first else b""
    raise AssertionError("sent every byte: the test's data is too short for BOUND")


def response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One whole response (it has a Content-Length), leaving the connection open."""
    sock.settimeout(BOUND)
    raw = b""
    while b"\r\n\r\n" not in raw or len(raw.partition(b"\r\n\r\n")[2]) < _length(raw):
        chunk = sock.recv(65536)
        assert chunk, f"the server closed the connection mid-response: {raw!r}"
        raw += chunk
    return response(raw)


def _length(raw: bytes) -> int:
    return int(response(raw)[1].get("content-length", "0"))


def request(method: str, path: str, *headers: str) -> bytes:
    return "\r\n".join([f"{method} {path} HTTP/1.1", "Host: videolib.test", *headers, "", ""]).encode()


# --- through a live server ---------------------------------------------------------------------


def test_a_trickled_body_is_answered_408_and_cut_off(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        sock.sendall(request("POST", "/graphql", "Content-Type: application/json", "Content-Length: 4000"))
        raw = trickle(sock, b'{"query": "' + b"#" * 3989)
    status, headers, body = response(raw)
    assert status == 408
    assert headers["connection"] == "close"
    [error] = json.loads(body)["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "VIDEOLIB_BODY_TIMEOUT_SECONDS" in error["message"]


def test_trickled_headers_are_cut_off(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        raw = trickle(sock, request("GET", "/healthz", "X-Slow: " + "a" * 4000))
    status, headers, _ = response(raw)
    assert status == 408
    assert headers["connection"] == "close"


def test_trickled_headers_of_a_next_request_are_cut_off(server: tuple[str, int]) -> None:
    """The deadline starts again with the first byte of each request on a kept-alive connection."""
    with connect(server) as sock:
        sock.sendall(request("GET", "/healthz"))
        assert read_response(sock)[0] == 200
        raw = trickle(sock, request("GET", "/healthz", "X-Slow: " + "a" * 4000))
    assert response(raw)[0] == 408


def test_a_connection_that_sends_nothing_is_closed(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        assert until_closed(sock) == b""  # nothing was asked, so nothing is answered


def test_an_idle_keep_alive_connection_is_closed(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        sock.sendall(request("GET", "/healthz"))
        raw = until_closed(sock, KEEPALIVE_BOUND)
    status, headers, body = response(raw)
    assert status == 200
    assert "close" not in headers.get("connection", "")  # kept alive, until the server's timeout
    assert json.loads(body) == {"status": "ok"}


def test_connections_beyond_the_cap_are_answered_503(db_config: DatabaseConfig, tmp_path: Path) -> None:
    env = {"VIDEOLIB_MAX_CONNECTIONS": "3", "VIDEOLIB_KEEPALIVE_SECONDS": "60"}
    with serving(db_config, tmp_path / "serve.log", **env) as address:
        held = [connect(address) for _ in range(3)]
        try:
            for sock in held:  # answered, so the server has them all, and kept open
                sock.sendall(request("GET", "/healthz"))
                assert read_response(sock)[0] == 200
            with connect(address) as extra:
                extra.sendall(request("GET", "/healthz"))
                status, headers, _ = response(until_closed(extra))
            assert status == 503
            assert headers["connection"] == "close"
        finally:
            for sock in held:
                sock.close()
        # Their places are free again (as soon as the server has seen them close).
        deadline = time.monotonic() + BOUND
        while httpx.get(f"http://{address[0]}:{address[1]}/healthz", timeout=BOUND).status_code == 503:
            assert time.monotonic() < deadline, "the closed connections were never let go"
            time.sleep(0.1)


# --- the body deadline, in the app -------------------------------------------------------------


def test_a_body_that_stops_arriving_is_408_and_counted(settings: Any, db: Any) -> None:
    from server import create_app

    app = create_app(dataclasses.replace(settings, connections=Connections(body_timeout_seconds=0.2)))
    headers = [(b"content-type", b"application/json"), (b"content-length", b"40")]
    stalled = [{"type": "http.request", "body": b'{"query": "{ __type', "more_body": True}]
    whole = [{"type": "http.request", "body": b'{"query": "{ __typename }"}', "more_body": False}]

    async def scenario() -> tuple[list[Any], list[Any], list[Any]]:
        cut = await asyncio.wait_for(call(app, "POST", "/graphql", headers, stalled), BOUND)
        served = await call(app, "POST", "/graphql", headers[:1], whole)
        return cut, served, await call(app, "GET", "/metrics")

    try:
        cut, served, scraped = asyncio.run(scenario())
    finally:
        bind(db)
    status, body = status_and_body(cut)
    assert status == 408
    assert (b"connection", b"close") in cut[0]["headers"]
    [error] = json.loads(body)["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "0.2 seconds (VIDEOLIB_BODY_TIMEOUT_SECONDS)" in error["message"]
    # A body that arrives in time is read as always.
    assert status_and_body(served) == (200, b'{"data":{"__typename":"Query"}}')
    text = status_and_body(scraped)[1].decode()
    assert values(text, "videolib_http_requests_total", "operation", "status") == {
        ("anonymous", "408"): 1,
        ("anonymous", "200"): 1,
    }
    assert values(text, "videolib_graphql_errors_total", "code")[("BAD_USER_INPUT",)] == 1


# --- configuration -----------------------------------------------------------------------------


def test_connection_limits_come_from_the_environment() -> None:
    assert load_connections({}) == Connections()
    given = load_connections(
        {
            "VIDEOLIB_MAX_CONNECTIONS": "20",
            "VIDEOLIB_KEEPALIVE_SECONDS": "2.5",
            "VIDEOLIB_HEADER_TIMEOUT_SECONDS": "3",
            "VIDEOLIB_BODY_TIMEOUT_SECONDS": "4",
        }
    )
    assert given == Connections(
        max_connections=20, keepalive_seconds=2.5, header_timeout_seconds=3, body_timeout_seconds=4
    )


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("VIDEOLIB_MAX_CONNECTIONS", "0", "at least 1"),
        ("VIDEOLIB_MAX_CONNECTIONS", "many", "whole number"),
        ("VIDEOLIB_BODY_TIMEOUT_SECONDS", "0", "more than 0 seconds"),
        ("VIDEOLIB_HEADER_TIMEOUT_SECONDS", "soon", "number of seconds"),
    ],
)
def test_bad_connection_limits_are_refused(name: str, value: str, needle: str) -> None:
    from models.database import ConfigError

    with pytest.raises(ConfigError, match=f"{name}.*{needle}"):
        load_connections({name: value})
