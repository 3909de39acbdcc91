"""The command line, end to end: real processes against a fresh database of each backend."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from models import User, Video, VideoCategory
from models.database import DatabaseConfig, make_sync_database

ROOT = Path(__file__).resolve().parent.parent
SECRET = "test-secret-key-that-is-long-enough-0123456789"


def url_of(config: DatabaseConfig) -> str:
    if config.is_sqlite:
        return f"sqlite:///{config.name}"
    password = f":{config.password}" if config.password else ""
    return f"mysql://{config.user}{password}@{config.host}:{config.port}/{config.name}"


def videolib(*args: str, url: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "DATABASE_URL": url, "VIDEOLIB_SECRET_KEY": SECRET, **env}
    return subprocess.run(
        [sys.executable, str(ROOT / "server.py"), *args],
        capture_output=True,
        text=True,
        env=environ,
        cwd=ROOT,
        timeout=120,
    )


def decode_id(global_id: str) -> tuple[str, int]:
    kind, _, pk = base64.b64decode(global_id).decode().partition(":")
    return kind, int(pk)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0]


@pytest.fixture
def url(fresh_db_config: DatabaseConfig) -> str:
    return url_of(fresh_db_config)


@pytest.fixture
def migrated(url: str) -> str:
    assert videolib("migrate", url=url).returncode == 0
    return url


def test_migrate_apply_rollback_and_reapply(url: str) -> None:
    first = videolib("migrate", url=url)
    assert first.returncode == 0, first.stderr
    applied = [line.split()[-1] for line in first.stdout.splitlines()]
    assert applied == sorted(applied) and len(applied) >= 6
    assert applied[0] == "001_users"

    again = videolib("migrate", url=url)
    assert again.returncode == 0 and "up to date" in again.stdout

    back = videolib("migrate", "--rollback", "2", url=url)
    assert back.returncode == 0, back.stderr
    assert back.stdout.split() == ["rolled", "back", applied[-1], "rolled", "back", applied[-2]]

    redo = videolib("migrate", url=url)
    assert [line.split()[-1] for line in redo.stdout.splitlines()] == applied[-2:]


def test_migrate_rollback_rejects_a_negative_count(url: str) -> None:
    result = videolib("migrate", "--rollback", "-1", url=url)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and ">= 0" in result.stderr


def test_create_user_prints_global_id_and_hashes_password(
    migrated: str, fresh_db_config: DatabaseConfig
) -> None:
    result = videolib(
        "create-user",
        "--email",
        "  Ada@Example.COM ",
        "--password",
        "correct horse",
        "--display-name",
        "Ada",
        "--admin",
        url=migrated,
    )
    assert result.returncode == 0, result.stderr
    kind, pk = decode_id(result.stdout.strip())
    assert kind == "User"
    db = make_sync_database(fresh_db_config)
    with db.bind_ctx([User]):
        user = User.get_by_id(pk)
    db.close()
    assert user.email == "ada@example.com"
    assert user.role == "admin"
    assert user.password_hash.startswith("$argon2id$")
    assert "correct horse" not in user.password_hash

    member = videolib(
        "create-user",
        "--email",
        "bob@example.com",
        "--password",
        "12345678",
        "--display-name",
        "Bob",
        url=migrated,
    )
    assert member.returncode == 0, member.stderr
    with db.bind_ctx([User]):
        assert User.get(User.email == "bob@example.com").role == "member"
    db.close()


def test_create_user_refuses_a_taken_email(migrated: str) -> None:
    args = ("--password", "password1", "--display-name", "Ada")
    assert videolib("create-user", "--email", "ada@example.com", *args, url=migrated).returncode == 0
    taken = videolib("create-user", "--email", "ADA@example.com", *args, url=migrated)
    assert taken.returncode == 1
    assert_one_line_error(taken, "ada@example.com", "already exists")


@pytest.mark.parametrize(
    ("email", "password", "name", "needle"),
    [
        ("not-an-email", "password1", "Ada", "not a valid email"),
        ("ada@example.com", "short", "Ada", "at least 8 characters"),
        ("ada@example.com", "password1", "   ", "display name"),
    ],
)
def test_create_user_rejects_bad_input(
    migrated: str, email: str, password: str, name: str, needle: str
) -> None:
    result = videolib(
        "create-user", "--email", email, "--password", password, "--display-name", name, url=migrated
    )
    assert result.returncode == 1
    assert_one_line_error(result, needle)


def test_seed_demo_is_idempotent_and_believable(migrated: str, fresh_db_config: DatabaseConfig) -> None:
    first = videolib("seed-demo", url=migrated)
    assert first.returncode == 0, first.stderr
    db = make_sync_database(fresh_db_config)

    def snapshot() -> tuple[int, int, int, int, list[str]]:
        with db.bind_ctx([User, Video, VideoCategory]):
            return (
                User.select().count(),
                VideoCategory.select().count(),
                Video.select().where(Video.published == True).count(),  # noqa: E712
                Video.select().where(Video.published == False).count(),  # noqa: E712
                [v.title for v in Video.select().where(Video.is_hero == True)],  # noqa: E712
            )

    before = snapshot()
    _users, categories, published, drafts, heroes = before
    assert categories >= 4
    assert 25 <= published <= 40
    assert drafts >= 2
    assert len(heroes) == 1

    second = videolib("seed-demo", url=migrated)
    assert second.returncode == 0, second.stderr
    assert "0 videos added" in second.stdout
    assert snapshot() == before
    db.close()


def test_seed_demo_before_migrate_says_what_to_do(url: str) -> None:
    result = videolib("seed-demo", url=url)
    assert_one_line_error(result, "videolib migrate")


@pytest.mark.parametrize(
    ("bad_url", "needle"),
    [
        ("postgres://localhost/x", "not supported"),
        ("mysql://", "must look like"),
        ("mysql://root@127.0.0.1:notaport/x", "malformed"),
        ("sqlite://", "must look like"),
    ],
)
def test_bad_database_url_is_one_clear_line(bad_url: str, needle: str) -> None:
    result = videolib("migrate", url=bad_url)
    assert result.returncode == 1
    assert_one_line_error(result, "DATABASE_URL", needle)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_database_is_one_clear_line() -> None:
    url = f"mysql://root@127.0.0.1:{_free_port()}/nowhere"
    for command in ("migrate", "seed-demo", "serve"):
        result = videolib(command, url=url)
        assert result.returncode == 1
        assert_one_line_error(result, "cannot reach the database", "127.0.0.1")


def test_mysql_url_requires_a_secret_key() -> None:
    result = videolib("migrate", url="mysql://root@127.0.0.1:3306/test", VIDEOLIB_SECRET_KEY="")
    assert_one_line_error(result, "VIDEOLIB_SECRET_KEY is required")


def test_sqlite_without_secret_generates_a_private_key_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lib.db'}"
    result = videolib("migrate", url=url, VIDEOLIB_SECRET_KEY="")
    assert result.returncode == 0, result.stderr
    key_file = tmp_path / "lib.db.secret"
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = key_file.read_text()
    assert len(key) >= 32
    assert "VIDEOLIB_SECRET_KEY is not set" in result.stderr
    # Kept, not regenerated, on the next run.
    assert videolib("migrate", url=url, VIDEOLIB_SECRET_KEY="").returncode == 0
    assert key_file.read_text() == key


def test_serve_answers_healthz_and_graphiql(migrated: str) -> None:
    port = _free_port()
    environ = {**os.environ, "DATABASE_URL": migrated, "VIDEOLIB_SECRET_KEY": SECRET}
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "server.py"), "serve", "--port", str(port)],
        env=environ,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        assert health.status_code == 200
        assert health.json() == {"status": "ok"}
        page = httpx.get(f"{base}/graphql", headers={"Accept": "text/html"}, timeout=5)
        assert page.status_code == 200
        assert "graphiql" in page.text.lower()
        answer = httpx.post(f"{base}/graphql", json={"query": "{ __typename }"}, timeout=5)
        assert answer.json() == {"data": {"__typename": "Query"}}
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_export_schema_prints_sdl(url: str) -> None:
    result = videolib("export-schema", url=url)
    assert result.returncode == 0, result.stderr
    assert "type Query" in result.stdout


def test_healthz_is_503_when_the_database_does_not_answer() -> None:
    from starlette.testclient import TestClient

    from resolvers.config import Settings
    from server import create_app

    settings = Settings(
        database=DatabaseConfig("mysql", "nowhere", port=_free_port()), secret_key=SECRET.encode()
    )
    with TestClient(create_app(settings)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] != "ok"


def test_serve_turns_nagle_off_on_every_connection(monkeypatch: Any) -> None:
    """`serve --workers N` listens on a socket made with proto 0, so asyncio leaves Nagle on and
    each keep-alive answer waits ~40 ms for a delayed ACK; our protocol turns it off itself."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    from schema.http.transport import NoDelayHTTPProtocol

    made: list[Any] = []
    monkeypatch.setattr(AutoHTTPProtocol, "connection_made", lambda self, transport: made.append(transport))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # as uvicorn binds for --workers N
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    client = socket.create_connection(listener.getsockname())
    accepted, _ = listener.accept()
    try:
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0

        class Transport:
            def get_extra_info(self, name: str) -> Any:
                return accepted if name == "socket" else None

        transport = Transport()
        NoDelayHTTPProtocol.__new__(NoDelayHTTPProtocol).connection_made(transport)  # type: ignore[arg-type]
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        assert made == [transport]  # uvicorn's own set-up still runs
    finally:
        for sock in (client, accepted, listener):
            sock.close()
