"""register, login, logout and bearer tokens, over HTTP on both backends."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx2 as httpx
import pytest
from argon2 import PasswordHasher

from models import AccessToken, User, utcnow
from models.database import make_sync_database
from resolvers import passwords
from resolvers.accounts import service
from resolvers.accounts.tokens import token_hash
from resolvers.passwords import verify_password
from tests.conftest import SECRET_KEY
from tests.factories import gid
from tests.live_server import live_server

REGISTER = """
mutation($input: RegisterInput!) {
  register(input: $input) { token user { id email displayName role } }
}"""
LOGIN = """
mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { token user { id email displayName } }
}"""
LOGOUT = "mutation { logout }"
ME = "{ me { id email } }"

FACTORY_PASSWORD = "password123"  # what tests.factories hashes for every user


def register_input(
    email: str = "ada@example.com", password: str = "correct horse", name: str = "Ada"
) -> dict[str, Any]:
    return {"input": {"email": email, "password": password, "displayName": name}}


def users(factory: Any) -> list[User]:
    with factory.bound():
        return list(User.select().order_by(User.id))


def tokens(factory: Any) -> list[AccessToken]:
    with factory.bound():
        return list(AccessToken.select().order_by(AccessToken.id))


def unauthenticated(client: Any, query: str, token: str | None = None, variables: dict | None = None) -> str:
    """The message of a request refused as UNAUTHENTICATED, which must answer no data."""
    body = client.post(query, variables, token=token)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED", error
    assert body.get("data") is None, body
    return str(error["message"])


# --- register --------------------------------------------------------------------------------


def test_register_returns_a_token_that_works(client: Any, factory: Any) -> None:
    before = utcnow()
    payload = client.data(REGISTER, register_input(name="  Ada Lovelace "))["register"]
    user = payload["user"]
    assert user["email"] == "ada@example.com"
    assert user["displayName"] == "Ada Lovelace"
    assert user["role"] == "MEMBER"

    me = client.data(ME, token=payload["token"])["me"]
    assert me == {"id": user["id"], "email": "ada@example.com"}

    [row] = users(factory)
    assert gid("User", row) == user["id"]
    assert row.password_hash.startswith("$argon2id$")
    assert "correct horse" not in row.password_hash
    assert verify_password(row.password_hash, "correct horse")
    [stored] = tokens(factory)
    assert stored.__data__["user"] == row.id
    assert stored.token_hash != payload["token"]
    assert payload["token"] not in stored.token_hash
    assert stored.token_hash == token_hash(SECRET_KEY, payload["token"])
    ttl = dt.timedelta(days=30)
    assert before + ttl <= stored.expires_at <= utcnow() + ttl


def test_register_normalises_the_email_and_refuses_it_twice(client: Any, factory: Any) -> None:
    payload = client.data(REGISTER, register_input(email="  Ada@Example.COM "))["register"]
    assert payload["user"]["email"] == "ada@example.com"

    error = client.error(REGISTER, register_input(email="ADA@example.com", name="Impostor"))
    assert error["extensions"]["code"] == "CONFLICT"
    assert "ada@example.com" in error["message"]

    [row] = users(factory)
    assert (row.email, row.display_name) == ("ada@example.com", "Ada")
    assert [t.token_hash for t in tokens(factory)] == [token_hash(SECRET_KEY, payload["token"])]


def test_register_conflicts_with_an_existing_account(client: Any, factory: Any) -> None:
    existing = factory.user(email="grace@example.com")
    error = client.error(REGISTER, register_input(email="Grace@Example.com"))
    assert error["extensions"]["code"] == "CONFLICT"
    assert [u.id for u in users(factory)] == [existing.id]
    assert tokens(factory) == []


@pytest.mark.parametrize(
    ("email", "password", "name", "needle"),
    [
        ("not-an-email", "long enough", "Ada", "not a valid email"),
        ("ada@example", "long enough", "Ada", "not a valid email"),
        ("ada @example.com", "long enough", "Ada", "not a valid email"),
        ("ada@example.com", "seven77", "Ada", "at least 8 characters"),
        ("ada@example.com", "x" * 1025, "Ada", "at most 1024 characters"),
        ("ada@example.com", "long enough", "   ", "display name must not be empty"),
    ],
)
def test_register_refuses_bad_input_and_writes_nothing(
    client: Any, factory: Any, email: str, password: str, name: str, needle: str
) -> None:
    body = client.post(REGISTER, register_input(email, password, name))
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert needle in error["message"]
    assert body["data"] is None
    assert users(factory) == []
    assert tokens(factory) == []


def test_register_is_all_or_nothing(client: Any, factory: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_token_row(user_id: int, issued: Any, now: dt.datetime) -> Any:
        return AccessToken.insert(user=user_id, token_hash=None, expires_at=issued.expires_at)

    monkeypatch.setattr(service, "_token_row", broken_token_row)
    error = client.error(REGISTER, register_input())
    # The user row was inserted, then the token failed: the user must be gone too, and the failure
    # is ours, not a taken email.
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "INSERT" not in error["message"] and "access_tokens" not in error["message"]
    assert users(factory) == []
    assert tokens(factory) == []


# --- login -----------------------------------------------------------------------------------


def test_login_issues_a_new_token(client: Any, factory: Any) -> None:
    user = factory.user(email="grace@example.com", name="Grace")
    old = factory.token(user)
    payload = client.data(LOGIN, {"email": " GRACE@example.com", "password": FACTORY_PASSWORD})["login"]
    assert payload["user"] == {"id": gid("User", user), "email": "grace@example.com", "displayName": "Grace"}
    assert payload["token"] != old

    assert client.data(ME, token=payload["token"])["me"]["id"] == gid("User", user)
    assert client.data(ME, token=old)["me"]["id"] == gid("User", user)
    assert sorted(t.token_hash for t in tokens(factory)) == sorted(
        token_hash(SECRET_KEY, t) for t in (old, payload["token"])
    )


def test_login_wrong_password_and_unknown_email_look_the_same(client: Any, factory: Any) -> None:
    factory.user(email="grace@example.com")
    wrong_password = unauthenticated(
        client, LOGIN, variables={"email": "grace@example.com", "password": "password124"}
    )
    unknown_email = unauthenticated(
        client, LOGIN, variables={"email": "nobody@example.com", "password": FACTORY_PASSWORD}
    )
    malformed_email = unauthenticated(client, LOGIN, variables={"email": "nobody", "password": "x"})
    assert wrong_password == unknown_email == malformed_email
    assert "email or password" in wrong_password
    assert tokens(factory) == []


def test_login_verifies_a_password_even_for_an_unknown_email(
    client: Any, factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    factory.user(email="grace@example.com")
    seen: list[tuple[str | None, str]] = []
    real = passwords.verify_password_async

    async def recording(password_hash: str | None, password: str) -> bool:
        seen.append((password_hash, password))
        return await real(password_hash, password)

    monkeypatch.setattr(passwords, "verify_password_async", recording)
    unauthenticated(client, LOGIN, variables={"email": "nobody@example.com", "password": "guess1234"})
    unauthenticated(client, LOGIN, variables={"email": "grace@example.com", "password": "guess1234"})
    # Both cost one argon2 verification: the first against the dummy hash, so timing tells nothing.
    assert [pw for _, pw in seen] == ["guess1234", "guess1234"]
    assert seen[0][0] is None
    assert seen[1][0] is not None and seen[1][0].startswith("$argon2id$")


def test_login_upgrades_a_hash_made_with_weaker_parameters(client: Any, factory: Any) -> None:
    user = factory.user(email="old@example.com")
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("an old password")
    with factory.bound():
        User.update(password_hash=weak).where(User.id == user.id).execute()

    client.data(LOGIN, {"email": "old@example.com", "password": "an old password"})

    with factory.bound():
        upgraded = User.get_by_id(user.id).password_hash
    assert upgraded != weak
    assert upgraded.startswith("$argon2id$")
    assert not PasswordHasher().check_needs_rehash(upgraded)
    assert verify_password(upgraded, "an old password")
    # And the upgraded hash keeps working.
    client.data(LOGIN, {"email": "old@example.com", "password": "an old password"})


def test_login_sweeps_the_users_expired_tokens_only(client: Any, factory: Any) -> None:
    user, other = factory.user(email="grace@example.com"), factory.user()
    live = factory.token(user)
    factory.token(user, ttl=-10)
    others_expired = factory.token(other, ttl=-10)

    payload = client.data(LOGIN, {"email": "grace@example.com", "password": FACTORY_PASSWORD})["login"]

    assert sorted(t.token_hash for t in tokens(factory)) == sorted(
        token_hash(SECRET_KEY, t) for t in (live, others_expired, payload["token"])
    )


# --- logout ----------------------------------------------------------------------------------


def test_logout_revokes_only_the_token_it_was_sent_with(client: Any, factory: Any) -> None:
    user = factory.user()
    phone, laptop = factory.token(user), factory.token(user)

    assert client.data(LOGOUT, token=phone) == {"logout": True}

    unauthenticated(client, ME, token=phone)
    unauthenticated(client, LOGOUT, token=phone)
    assert client.data(ME, token=laptop)["me"]["id"] == gid("User", user)
    assert [t.token_hash for t in tokens(factory)] == [token_hash(SECRET_KEY, laptop)]


def test_logout_needs_a_signed_in_caller(client: Any, factory: Any) -> None:
    user = factory.user()
    token = factory.token(user)
    error = client.error(LOGOUT)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "sign in" in error["message"]
    assert len(tokens(factory)) == 1
    assert client.data(ME, token=token)["me"]["id"] == gid("User", user)


# --- bearer tokens ---------------------------------------------------------------------------


def _tampered(token: str) -> str:
    i = len(token) // 2
    return token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]


@pytest.mark.parametrize("kind", ["garbage", "tampered", "expired", "revoked", "another_key"])
def test_bad_tokens_are_unauthenticated_never_anonymous(client: Any, factory: Any, kind: str) -> None:
    user = factory.user()
    good = factory.token(user)
    if kind == "garbage":
        token = "not-a-token"
    elif kind == "tampered":
        token = _tampered(good)
    elif kind == "expired":
        token = factory.token(user, ttl=-10)
    elif kind == "revoked":
        token = factory.token(user)
        with factory.bound():
            AccessToken.delete().where(AccessToken.token_hash == token_hash(SECRET_KEY, token)).execute()
    else:  # a token whose hash was made with some other secret key
        token = "vl_" + "x" * 43
        with factory.bound():
            digest = token_hash(b"another-key", token)
            AccessToken.create(user=user.id, token_hash=digest, expires_at=utcnow() + dt.timedelta(days=1))
    assert token != good

    message = unauthenticated(client, ME, token=token)
    assert "log in again" in message
    # The refusal is about the token, not the operation: a mutation is refused the same way.
    unauthenticated(client, REGISTER, token=token, variables=register_input())
    assert users(factory) == [user]
    assert client.data(ME, token=good)["me"]["id"] == gid("User", user)


@pytest.mark.parametrize("header", ["{token}", "Token {token}", "Basic {token}", "Bearer", "Bearer   "])
def test_authorization_header_must_be_bearer(client: Any, factory: Any, header: str) -> None:
    token = factory.token(factory.user())
    response = client.http.post(
        "/graphql", json={"query": ME}, headers={"Authorization": header.format(token=token)}
    )
    assert response.status_code == 200
    body = response.json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "Bearer <token>" in error["message"]
    assert body.get("data") is None


def test_bearer_scheme_is_case_insensitive(client: Any, factory: Any) -> None:
    user = factory.user()
    token = factory.token(user)
    response = client.http.post("/graphql", json={"query": ME}, headers={"Authorization": f"bearer {token}"})
    assert response.json() == {"data": {"me": {"id": gid("User", user), "email": user.email}}}


# --- races -----------------------------------------------------------------------------------


async def _register_at_once(base_url: str, n: int) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        # One address, spelt ten ways that all normalise to it.
        variables = [register_input(email=f" RACE@example.com{' ' * i}", name=f"Racer {i}") for i in range(n)]
        responses = await asyncio.gather(
            *(http.post("/graphql", json={"query": REGISTER, "variables": v}) for v in variables)
        )
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    return [dict(r.json()) for r in responses]


def test_parallel_registrations_of_one_email_give_one_account(settings: Any, db: Any, factory: Any) -> None:
    # A real server, so the ten transactions truly overlap; the unique index must pick one winner
    # (on SQLite the writers queue on the database lock, on MariaDB on the index record lock).
    with live_server(settings) as base_url:
        bodies = asyncio.run(_register_at_once(base_url, 10))

    winners = [b["data"]["register"] for b in bodies if not b.get("errors")]
    codes = sorted(b["errors"][0]["extensions"]["code"] for b in bodies if b.get("errors"))
    assert len(winners) == 1, bodies
    assert codes == ["CONFLICT"] * 9, bodies
    [row] = users(factory)
    assert row.email == "race@example.com"
    assert gid("User", row) == winners[0]["user"]["id"]
    assert [t.token_hash for t in tokens(factory)] == [token_hash(SECRET_KEY, winners[0]["token"])]


def test_a_database_failure_while_authenticating_is_internal_and_hides_the_cause(client, factory, db) -> None:
    """Not the client's fault, so not BAD_USER_INPUT, and the driver's words never leave."""
    token = factory.token(factory.user())
    db.execute_sql("ALTER TABLE access_tokens RENAME TO access_tokens_away")
    try:
        body = client.post("{ me { id } }", token=token)
    finally:
        db.execute_sql("ALTER TABLE access_tokens_away RENAME TO access_tokens")
    # Nothing was executed: a request error, so no data entry at all.
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["message"] == "Internal server error"
    assert len(error["extensions"]["requestId"]) == 32
    assert "access_tokens" not in error["message"]


# --- one rule for which emails are one account (issue 12) -------------------------------------


def test_emails_that_differ_only_in_accents_or_case_are_one_account(client: Any, factory: Any) -> None:
    first = client.data(REGISTER, register_input(email="josé@example.com", password="correct horse"))
    # The accent typed as e + U+0301 (as some keyboards send it) too.
    spellings = ["jose@example.com", "JOSÉ@example.com", "jose\u0301@example.com", "jòse@example.com"]
    errors = [client.error(REGISTER, register_input(email=e, name="Impostor")) for e in spellings]
    assert [e["extensions"]["code"] for e in errors] == ["CONFLICT"] * 4
    assert all("differ only in case or accents" in e["message"] for e in errors)
    [row] = users(factory)
    assert (row.email, row.display_name) == ("josé@example.com", "Ada")
    assert len(tokens(factory)) == 1

    # Login with any of them signs in to that one account.
    for spelling in ["josé@example.com", "jose@example.com", "JOSE\u0301@example.com"]:
        user = client.data(LOGIN, {"email": spelling, "password": "correct horse"})["login"]["user"]
        assert (user["id"], user["email"]) == (first["register"]["user"]["id"], "josé@example.com")


def test_the_plain_spelling_first_blocks_the_accented_one(client: Any, factory: Any) -> None:
    client.data(REGISTER, register_input(email="rene@example.com"))
    error = client.error(REGISTER, register_input(email="rené@example.com"))
    assert error["extensions"]["code"] == "CONFLICT"
    # Letters the rule keeps apart (as MariaDB's collation does) are different accounts.
    client.data(REGISTER, register_input(email="иван@example.com", name="Ivan"))
    client.data(REGISTER, register_input(email="йван@example.com", name="Yvan"))
    client.data(REGISTER, register_input(email="aeble@example.com", name="Ae"))
    client.data(REGISTER, register_input(email="æble@example.com", name="Ash"))
    assert [u.email for u in users(factory)] == [
        "rene@example.com",
        "иван@example.com",
        "йван@example.com",
        "aeble@example.com",
        "æble@example.com",
    ]


async def _register_spellings_at_once(base_url: str, spellings: list[str]) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        responses = await asyncio.gather(
            *(
                http.post("/graphql", json={"query": REGISTER, "variables": register_input(email=e)})
                for e in spellings
            )
        )
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    return [dict(r.json()) for r in responses]


def test_parallel_registrations_of_spellings_of_one_email_give_one_account(
    settings: Any, db: Any, factory: Any
) -> None:
    spellings = [
        "josé@example.com",
        "jose@example.com",
        "JOSÈ@example.com",
        "jöse@example.com",
        "jose\u0301@example.com",
    ]
    with live_server(settings) as base_url:
        bodies = asyncio.run(_register_spellings_at_once(base_url, spellings * 2))
    winners = [b["data"]["register"] for b in bodies if not b.get("errors")]
    codes = sorted(b["errors"][0]["extensions"]["code"] for b in bodies if b.get("errors"))
    assert len(winners) == 1, bodies
    assert codes == ["CONFLICT"] * 9, bodies
    [row] = users(factory)
    assert gid("User", row) == winners[0]["user"]["id"]
    assert row.email == winners[0]["user"]["email"]


def test_create_user_follows_the_same_rule(fresh_db_config: Any) -> None:
    from tests.test_cli import assert_one_line_error, url_of, videolib

    url = url_of(fresh_db_config)
    assert videolib("migrate", url=url).returncode == 0
    args = ("--password", "password1", "--display-name", "José")
    created = videolib("create-user", "--email", "josé@example.com", *args, url=url)
    assert created.returncode == 0, created.stderr
    for spelling in ["jose@example.com", "JOSE\u0301@example.com"]:
        taken = videolib("create-user", "--email", spelling, *args, url=url)
        assert taken.returncode == 1
        assert_one_line_error(taken, "already exists", "differ only in case or accents")
    db = make_sync_database(fresh_db_config)
    try:
        assert [r[0] for r in db.execute_sql("SELECT email FROM users").fetchall()] == ["josé@example.com"]
    finally:
        db.close()
