"""The command line, end to end: real processes against a fresh database of each backend."""

from __future__ import annotations

import base64
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pymysql
import pytest

from models import User, Video, VideoCategory, VideoProgress, VideoReaction, demo
from models.database import DatabaseConfig, make_sync_database
from tests.conftest import _mysql_admin, _mysql_server, _mysql_unavailable, drop_database

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


def _tables(config: DatabaseConfig) -> set[str]:
    db = make_sync_database(config)
    try:
        return set(db.get_tables())
    finally:
        db.close()


def test_migrate_rollback_refuses_more_than_are_applied(url: str, fresh_db_config: DatabaseConfig) -> None:
    nothing = videolib("migrate", "--rollback", "1", url=url)
    assert nothing.returncode == 1
    assert_one_line_error(nothing, "cannot roll back 1 migration: none is applied")

    applied = videolib("migrate", url=url).stdout.splitlines()
    tables = _tables(fresh_db_config)
    too_many = videolib("migrate", "--rollback", str(len(applied) + 1), url=url)
    assert too_many.returncode == 1
    assert_one_line_error(
        too_many,
        f"cannot roll back {len(applied) + 1} migrations: {len(applied)} are applied",
        f"`videolib migrate --rollback {len(applied)}` undoes them all",
    )
    assert too_many.stdout == ""
    # Refused whole: nothing was undone.
    assert _tables(fresh_db_config) == tables
    assert "up to date" in videolib("migrate", url=url).stdout


def test_migrate_rollback_asks_for_yes_before_dropping_rows(
    migrated: str, fresh_db_config: DatabaseConfig
) -> None:
    assert videolib("seed-demo", url=migrated).returncode == 0
    tables = _tables(fresh_db_config)

    # access_tokens is empty: its rollback drops nothing that holds rows, and needs no --yes.
    empty = videolib("migrate", "--rollback", "1", url=migrated)
    assert empty.returncode == 0, empty.stderr
    assert empty.stdout.split() == ["rolled", "back", "006_access_tokens"]
    assert videolib("migrate", url=migrated).returncode == 0

    refused = videolib("migrate", "--rollback", "3", url=migrated)
    assert refused.returncode == 1
    assert_one_line_error(
        refused,
        "rolling back 006_access_tokens, 005_video_reactions, 004_video_progress would drop tables "
        "that hold rows: video_reactions (116 rows), video_progress (18 rows). "
        "Run it again with --yes to go ahead",
    )
    assert _tables(fresh_db_config) == tables  # nothing undone

    everything = videolib("migrate", "--rollback", "6", url=migrated)
    assert_one_line_error(
        everything,
        "video_reactions (116 rows), video_progress (18 rows), videos (61 rows), "
        "video_categories (6 rows), users (7 rows).",
    )

    confirmed = videolib("migrate", "--rollback", "3", "--yes", url=migrated)
    assert confirmed.returncode == 0, confirmed.stderr
    assert [line.split()[-1] for line in confirmed.stdout.splitlines()] == [
        "006_access_tokens",
        "005_video_reactions",
        "004_video_progress",
    ]
    assert tables - _tables(fresh_db_config) == {"access_tokens", "video_reactions", "video_progress"}


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

    models = [User, Video, VideoCategory, VideoReaction, VideoProgress]

    def snapshot() -> tuple[int, int, int, int, list[str], int, int, int]:
        with db.bind_ctx(models):
            nature = VideoCategory.get(VideoCategory.slug == "nature")
            return (
                User.select().count(),
                VideoCategory.select().count(),
                Video.select().where(Video.published == True).count(),  # noqa: E712
                Video.select().where(Video.published == False).count(),  # noqa: E712
                [v.title for v in Video.select().where(Video.is_hero == True)],  # noqa: E712
                Video.select().where((Video.category == nature) & (Video.published == True)).count(),  # noqa: E712
                VideoReaction.select().count(),
                VideoProgress.select().count(),
            )

    before = snapshot()
    # What README.md's command-line table says seed-demo loads.
    assert before == (7, 6, 58, 3, [demo.HERO_TITLE], 32, 116, 18)
    assert first.stdout.strip() == (
        "demo catalogue ready (7 users, 6 categories, 61 videos, 116 reactions, 18 progress added)"
    )
    with db.bind_ctx(models):
        # The viewers' progress is what saveProgress would have written.
        for row in VideoProgress.select(VideoProgress, Video).join(Video):
            assert 0 < row.last_position <= row.duration_seconds == row.video.duration_seconds
            assert row.watched_seconds >= row.last_position
            assert row.completed == (row.watched_seconds >= 0.9 * row.duration_seconds)
        hero = Video.get(Video.is_hero == True)  # noqa: E712
        assert hero.id == 35  # the ID the README's examples show, on a fresh database
        assert VideoReaction.select().where(VideoReaction.video == hero).count() == 6

    second = videolib("seed-demo", url=migrated)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == (
        "demo catalogue ready (0 users, 0 categories, 0 videos, 0 reactions, 0 progress added)"
    )
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


@pytest.fixture
def mysql_server() -> DatabaseConfig:
    """The MariaDB server the tests use (TEST_MYSQL_URL); skipped, or failed under REQUIRE_MYSQL=1,
    when it does not answer."""
    server = _mysql_server()
    try:
        _mysql_admin(server).close()
    except pymysql.err.OperationalError as exc:
        _mysql_unavailable(str(exc))
    return server


def test_a_missing_mariadb_database_says_so_and_how_to_create_it(mysql_server: DatabaseConfig) -> None:
    config = mysql_server.with_name(f"videolib_missing_{uuid.uuid4().hex[:12]}")
    url = url_of(config)
    for command in ("migrate", "seed-demo", "serve"):
        result = videolib(command, url=url)
        assert result.returncode == 1
        assert_one_line_error(
            result,
            f"the database {config.name} does not exist on {config.host}:{config.port}: create it with "
            f"CREATE DATABASE `{config.name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;",
        )
        assert "cannot reach" not in result.stderr
    # The statement it gives is the one to run: after it, migrate works.
    statement = result.stderr.split("create it with ", 1)[1].split(";", 1)[0]
    with _mysql_admin(mysql_server) as conn, conn.cursor() as cur:
        cur.execute(statement)
    try:
        migrated = videolib("migrate", url=url)
        assert migrated.returncode == 0, migrated.stderr
        with _mysql_admin(mysql_server) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT default_character_set_name, default_collation_name FROM information_schema.schemata "
                "WHERE schema_name = %s",
                (config.name,),
            )
            assert cur.fetchone() == ("utf8mb4", "utf8mb4_general_ci")
    finally:
        drop_database(config)


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


@pytest.mark.parametrize("port", ["99999", "65536", "0", "-1", "http"])
def test_serve_refuses_a_port_out_of_range_in_one_line(tmp_path: Path, port: str) -> None:
    result = videolib("serve", "--port", port, url=f"sqlite:///{tmp_path / 'lib.db'}")
    assert result.returncode == 2  # argparse's status, as for every other bad argument
    assert "Traceback" not in result.stderr
    usage, error = result.stderr.splitlines()
    assert usage.startswith("usage: videolib serve")
    expected = "expected a whole number" if port == "http" else "expected a port from 1 to 65535"
    assert error.startswith("videolib serve: error: argument --port: " + expected)
    # Refused before anything else: the database was not even opened.
    assert not (tmp_path / "lib.db").exists()


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


# --- README.md, "Run on MariaDB" -----------------------------------------------------------------

README = ROOT / "README.md"


def _readme_blocks(title: str, kind: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.index("\n## ", start + 1)
    return re.findall(rf"^```{kind}\n(.*?)^```$", text[start:end], flags=re.MULTILINE | re.DOTALL)


def _wait_for_health(base: str, proc: subprocess.Popen[bytes], seconds: float = 60) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return httpx.get(f"{base}/healthz", timeout=2)
        except httpx.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise
            time.sleep(0.2)


def test_the_readme_mariadb_steps_work_as_written(mysql_server: DatabaseConfig, tmp_path: Path) -> None:
    """Every step of the section, in its order, against a new database and account (the README's
    `videolib` names made unique on the shared server): the SQL, the key command, migrate,
    create-user and serve with its workers (on a free port of 127.0.0.1); then the admin signs in."""
    if mysql_server.host not in ("127.0.0.1", "localhost"):
        pytest.skip("the README's account is for 127.0.0.1; TEST_MYSQL_URL names another host")
    [sql] = _readme_blocks("Run on MariaDB", "sql")
    [sh] = _readme_blocks("Run on MariaDB", "sh")
    assert "CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci" in sql
    name = f"videolib_readme_{uuid.uuid4().hex[:10]}"

    def ours(text: str) -> str:
        return re.sub(r"\bvideolib\b", name, text)

    lines = [line for line in sh.splitlines() if line.strip()]
    assert lines[0].startswith("make install")  # this venv is installed already
    key_line = next(line for line in lines if "secrets.token_urlsafe" in line)
    exports = [line for line in lines if line.startswith("export ")]
    commands = [shlex.split(line, comments=True) for line in lines if line.startswith("videolib ")]
    assert [argv[1] for argv in commands] == ["migrate", "create-user", "serve"]

    statements = [statement.strip() for statement in sql.split(";") if statement.strip()]
    proc: subprocess.Popen[bytes] | None = None
    try:
        with _mysql_admin(mysql_server) as conn, conn.cursor() as cur:
            for statement in statements:
                cur.execute(ours(statement))

        # The key and the settings, as a shell runs those lines.
        show = 'printf "%s\\n%s" "$VIDEOLIB_SECRET_KEY" "$DATABASE_URL"'
        exports = [ours(line) if "DATABASE_URL" in line else line for line in exports]
        script = "\n".join([key_line, *exports, show])
        shell = subprocess.run(
            ["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True
        )
        key, url = shell.stdout.splitlines()
        assert len(key) >= 32 and key == (tmp_path / "videolib.key").read_text().strip()
        assert (tmp_path / "videolib.key").stat().st_mode & 0o777 == 0o600
        assert url == f"mysql://{name}:change-this-password@127.0.0.1:3306/{name}"
        url = url.replace("127.0.0.1:3306", f"{mysql_server.host}:{mysql_server.port}")

        migrate, create_user, serve = commands
        result = videolib(*migrate[1:], url=url, VIDEOLIB_SECRET_KEY=key)
        assert result.returncode == 0, result.stderr
        assert "applied 001_users" in result.stdout
        result = videolib(*create_user[1:], url=url, VIDEOLIB_SECRET_KEY=key)
        assert result.returncode == 0, result.stderr
        assert decode_id(result.stdout.strip())[0] == "User"
        options = dict(zip(create_user[2::2], create_user[3::2], strict=False))

        # serve as written, but on a free port of 127.0.0.1.
        port = _free_port()
        args = serve[1:]
        args[args.index("--host") + 1] = "127.0.0.1"
        args[args.index("--port") + 1] = str(port)
        assert int(args[args.index("--workers") + 1]) > 1
        environ = {**os.environ, "DATABASE_URL": url, "VIDEOLIB_SECRET_KEY": key}
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "server.py"), *args],
            env=environ,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        assert _wait_for_health(base, proc).json() == {"status": "ok"}
        login = httpx.post(
            f"{base}/graphql",
            json={
                "query": "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
                "variables": {"e": options["--email"], "p": options["--password"]},
            },
            timeout=10,
        ).json()
        token = login["data"]["login"]["token"]
        me = httpx.post(
            f"{base}/graphql",
            json={"query": "{ me { displayName role } }"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()
        assert me == {"data": {"me": {"displayName": options["--display-name"], "role": "ADMIN"}}}
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        with _mysql_admin(mysql_server) as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cur.execute(f"DROP USER IF EXISTS '{name}'@'127.0.0.1'")
