"""Login throttling: failed sign-ins per email and per client address (resolvers/accounts/throttle.py).

Three layers: the LoginThrottle itself with a fake clock; the login service against a real database
on both backends, with a throttle of its own and a fake clock, so waiting out the window needs no
sleep; and the API over HTTP, which needs the app to hand its throttle to every request's Context.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import peewee
import pytest
from starlette.requests import Request

from models import AccessToken
from models.database import bind, make_async_database
from resolvers import passwords
from resolvers.accounts import service
from resolvers.accounts.throttle import LoginThrottle, address_bucket
from resolvers.config import Limits, Settings
from resolvers.context import Context
from resolvers.errors import TooManyAttempts, Unauthenticated
from tests.conftest import SECRET_KEY
from tests.test_accounts import FACTORY_PASSWORD, LOGIN, ME, REGISTER, register_input

T = TypeVar("T")

WINDOW = 900
LIMITS = Limits(login_failures_per_email=3, login_failures_per_address=5, login_window_seconds=WINDOW)
WRONG = "wrong password"


class FakeClock:
    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def throttle(clock: FakeClock) -> LoginThrottle:
    return LoginThrottle(LIMITS, clock=clock)


def fail(throttle: LoginThrottle, email: str, address: str | None = "10.0.0.1", times: int = 1) -> None:
    for _ in range(times):
        throttle.begin(email, address)  # let through and, left unsettled, counted as failed


def refused(throttle: LoginThrottle, email: str, address: str | None = "10.0.0.1") -> int:
    with pytest.raises(TooManyAttempts) as info:
        throttle.begin(email, address)
    return info.value.retry_after


# --- the throttle alone ----------------------------------------------------------------------


def test_the_email_limit_blocks_until_the_oldest_failure_leaves_the_window(
    throttle: LoginThrottle, clock: FakeClock
) -> None:
    fail(throttle, "ada@example.com")
    clock.advance(100)
    fail(throttle, "ada@example.com", times=2)

    assert refused(throttle, "ada@example.com") == WINDOW - 100
    clock.advance(WINDOW - 100 - 0.5)
    assert refused(throttle, "ada@example.com") == 1  # rounded up, never 0

    # The first failure leaves the window: one more try, and the next failure blocks again until
    # the second one leaves.
    clock.advance(0.5)
    fail(throttle, "ada@example.com")
    assert refused(throttle, "ada@example.com") == 100


def test_the_refusal_says_how_long_to_wait(throttle: LoginThrottle, clock: FakeClock) -> None:
    fail(throttle, "ada@example.com", times=3)
    clock.advance(488)
    with pytest.raises(TooManyAttempts) as info:
        throttle.begin("ada@example.com", None)
    error = info.value
    assert error.message == "too many failed sign-in attempts: try again in 412 seconds"
    assert error.extensions == {"code": "FORBIDDEN", "retryAfter": 412}


def test_a_refused_attempt_does_not_extend_the_block(throttle: LoginThrottle, clock: FakeClock) -> None:
    fail(throttle, "ada@example.com", times=3)
    for _ in range(10):
        refused(throttle, "ada@example.com")
        clock.advance(WINDOW / 10 - 1)
    clock.advance(10)
    throttle.begin("ada@example.com", None)


def test_success_forgets_the_emails_failures_but_not_the_addresses(throttle: LoginThrottle) -> None:
    fail(throttle, "ada@example.com", times=2)
    fail(throttle, "bob@example.com", times=2)
    throttle.begin("ada@example.com", "10.0.0.1").succeed()

    # Ada starts again from zero: three more failures before a refusal.
    fail(throttle, "ada@example.com", address="10.0.0.2", times=3)
    refused(throttle, "ada@example.com", address="10.0.0.2")
    # The address kept its four failures (the success itself not counted): one more, then refused.
    fail(throttle, "carol@example.com")
    assert refused(throttle, "dave@example.com") > 0


def test_an_abandoned_attempt_counts_nowhere(throttle: LoginThrottle) -> None:
    for _ in range(10):
        throttle.begin("ada@example.com", "10.0.0.1").abandon()
    fail(throttle, "ada@example.com", times=3)
    refused(throttle, "ada@example.com")


def test_the_address_limit_spans_emails(throttle: LoginThrottle) -> None:
    for n in range(5):
        fail(throttle, f"user{n}@example.com")
    assert refused(throttle, "someone-new@example.com") == WINDOW
    # The same email from elsewhere is fine: only the address is over its limit.
    throttle.begin("someone-new@example.com", "10.0.0.2")


def test_ipv6_addresses_count_per_64(throttle: LoginThrottle) -> None:
    assert address_bucket("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert address_bucket("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert address_bucket("2001:db8:1:3::1") == "2001:db8:1:3::/64"
    assert address_bucket("::ffff:10.0.0.1") == address_bucket("10.0.0.1") == "10.0.0.1"
    assert address_bucket("testclient") == "testclient"
    for n in range(5):
        fail(throttle, f"user{n}@example.com", address=f"2001:db8:1:2::{n + 1}")
    refused(throttle, "user9@example.com", address="2001:db8:1:2:ffff::9")
    throttle.begin("user9@example.com", "2001:db8:1:3::9")


def test_memory_is_bounded_and_the_least_recently_failed_keys_go_first(clock: FakeClock) -> None:
    small = LoginThrottle(LIMITS, clock=clock, max_keys=100)
    for n in range(1_000):
        clock.advance(0.001)
        # Long emails are held as fixed-size digests.
        fail(small, f"{n}-{'x' * 10_000}@example.com", address=f"10.{n // 256}.{n % 256}.1")
    assert small.tracked_keys() == (100, 100)

    fail(small, "old@example.com", address=None, times=2)
    fail(small, "recent@example.com", address=None, times=2)
    for n in range(99):
        fail(small, f"spray{n}@example.com", address=None)
    assert small.tracked_keys() == (100, 100)
    # The 99 sprays pushed out the 98 older ones and then "old", whose failures are forgotten;
    # "recent" still has its two.
    fail(small, "recent@example.com", address=None)
    refused(small, "recent@example.com", address=None)
    fail(small, "old@example.com", address=None, times=3)
    refused(small, "old@example.com", address=None)


# --- the login service on a real database ----------------------------------------------------


def client_request(host: str | None) -> Request:
    return Request({"type": "http", "headers": [], "client": (host, 50_000) if host else None})


@pytest.fixture
def run(settings: Settings, db: Any) -> Callable[[Callable[[Any], Awaitable[T]]], T]:
    """Runs `scenario(async database)` on an event loop of its own, as the server would."""

    def runner(scenario: Callable[[Any], Awaitable[T]]) -> T:
        async def main() -> T:
            adb = bind(make_async_database(settings.database))
            try:
                return await scenario(adb)
            finally:
                await adb.close_pool()

        return asyncio.run(main())

    return runner  # the db fixture binds the test's own database back afterwards


class Server:
    """What one app shares between requests: the settings, the database and the throttle."""

    def __init__(self, settings: Settings, adb: Any, throttle: LoginThrottle) -> None:
        self.settings, self.adb, self.throttle = settings, adb, throttle

    def context(self, host: str | None = "10.0.0.1") -> Context:
        return Context(
            request=client_request(host), settings=self.settings, db=self.adb, throttle=self.throttle
        )

    async def login(self, email: str, password: str, host: str | None = "10.0.0.1") -> str | int:
        """The new token, "UNAUTHENTICATED", or the retryAfter of a refusal."""
        try:
            return (await service.login(self.context(host), email, password)).token
        except TooManyAttempts as exc:
            assert exc.extensions is not None and exc.extensions["code"] == "FORBIDDEN"
            return exc.retry_after
        except Unauthenticated:
            return "UNAUTHENTICATED"


@pytest.fixture
def verified(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The passwords verified with argon2, in order."""
    seen: list[str] = []
    real = passwords.verify_password_async

    async def recording(password_hash: str | None, password: str) -> bool:
        seen.append(password)
        return await real(password_hash, password)

    monkeypatch.setattr(passwords, "verify_password_async", recording)
    return seen


def test_after_n_failures_even_the_right_password_is_refused_until_the_window_passes(
    run: Any, settings: Settings, factory: Any, throttle: LoginThrottle, clock: FakeClock, verified: list[str]
) -> None:
    factory.user(email="grace@example.com")

    async def scenario(adb: Any) -> list[Any]:
        server = Server(settings, adb, throttle)
        outcomes: list[Any] = [await server.login("grace@example.com", f"{WRONG} {n}") for n in range(3)]
        outcomes.append(await server.login(" GRACE@example.com", FACTORY_PASSWORD))
        clock.advance(WINDOW - 1)
        outcomes.append(await server.login("grace@example.com", FACTORY_PASSWORD))
        clock.advance(1)
        outcomes.append(await server.login("grace@example.com", FACTORY_PASSWORD))
        return outcomes

    outcomes = run(scenario)
    assert outcomes[:5] == ["UNAUTHENTICATED"] * 3 + [WINDOW, 1]
    assert isinstance(outcomes[5], str) and outcomes[5].startswith("vl_")
    # The two refused attempts cost no argon2 verification.
    assert verified == [f"{WRONG} 0", f"{WRONG} 1", f"{WRONG} 2", FACTORY_PASSWORD]
    with factory.bound():
        assert AccessToken.select().count() == 1


def test_unknown_emails_count_like_wrong_passwords(
    run: Any, settings: Settings, throttle: LoginThrottle, verified: list[str]
) -> None:
    async def scenario(adb: Any) -> list[Any]:
        server = Server(settings, adb, throttle)
        return [await server.login("nobody@example.com", WRONG) for _ in range(4)]

    assert run(scenario) == ["UNAUTHENTICATED"] * 3 + [WINDOW]
    assert verified == [WRONG] * 3


def test_successes_and_registrations_never_count(
    run: Any, settings: Settings, factory: Any, throttle: LoginThrottle
) -> None:
    factory.user(email="grace@example.com")

    async def scenario(adb: Any) -> list[Any]:
        server = Server(settings, adb, throttle)
        outcomes: list[Any] = []
        # Well over both limits of successes and registrations from one address.
        for n in range(6):
            await service.register(server.context(), f"new{n}@example.com", "long enough", f"New {n}")
            outcomes.append(await server.login("grace@example.com", FACTORY_PASSWORD))
        # Two failures, a success that forgets them, then three more before the refusal.
        outcomes += [await server.login("grace@example.com", WRONG) for _ in range(2)]
        outcomes.append(await server.login("grace@example.com", FACTORY_PASSWORD))
        outcomes += [await server.login("grace@example.com", WRONG, host="10.0.0.2") for _ in range(3)]
        outcomes.append(await server.login("grace@example.com", FACTORY_PASSWORD, host="10.0.0.3"))
        return outcomes

    outcomes = run(scenario)
    tokens = [*outcomes[:6], outcomes[8]]
    assert all(isinstance(t, str) and t.startswith("vl_") for t in tokens), outcomes
    assert outcomes[6:8] == ["UNAUTHENTICATED"] * 2
    assert outcomes[9:] == ["UNAUTHENTICATED"] * 3 + [WINDOW]


def test_other_emails_from_one_address_are_refused_only_past_the_address_limit(
    run: Any, settings: Settings, factory: Any, throttle: LoginThrottle, clock: FakeClock
) -> None:
    factory.user(email="grace@example.com")

    async def scenario(adb: Any) -> list[Any]:
        server = Server(settings, adb, throttle)
        outcomes: list[Any] = []
        for n in range(5):  # five emails, one failure each: under every email's limit
            outcomes.append(await server.login(f"user{n}@example.com", WRONG))
            clock.advance(10)
        outcomes.append(await server.login("grace@example.com", FACTORY_PASSWORD))
        outcomes.append(await server.login("grace@example.com", FACTORY_PASSWORD, host="10.0.0.2"))
        outcomes.append(await server.login("grace@example.com", FACTORY_PASSWORD, host=None))
        return outcomes

    outcomes = run(scenario)
    assert outcomes[:6] == ["UNAUTHENTICATED"] * 5 + [WINDOW - 50]
    assert all(isinstance(t, str) and t.startswith("vl_") for t in outcomes[6:]), outcomes


def test_concurrent_guesses_cannot_slip_under_the_limit(
    run: Any, settings: Settings, factory: Any, throttle: LoginThrottle, verified: list[str]
) -> None:
    factory.user(email="grace@example.com")

    async def scenario(adb: Any) -> list[Any]:
        server = Server(settings, adb, throttle)
        return list(await asyncio.gather(*(server.login("grace@example.com", WRONG) for _ in range(10))))

    outcomes = run(scenario)
    assert sorted(outcomes, key=str) == [WINDOW] * 7 + ["UNAUTHENTICATED"] * 3
    assert len(verified) == 3


def test_a_database_failure_is_not_counted_against_the_caller(
    run: Any, settings: Settings, factory: Any, throttle: LoginThrottle, db: Any
) -> None:
    factory.user(email="grace@example.com")

    async def scenario(adb: Any) -> list[Any]:
        server = Server(settings, adb, throttle)
        outcomes: list[Any] = []
        db.execute_sql("ALTER TABLE users RENAME TO users_away")
        try:
            for _ in range(5):
                with pytest.raises(peewee.DatabaseError):
                    await server.login("grace@example.com", WRONG)
        finally:
            db.execute_sql("ALTER TABLE users_away RENAME TO users")
        outcomes.append(await server.login("grace@example.com", FACTORY_PASSWORD))
        return outcomes

    [token] = run(scenario)
    assert isinstance(token, str) and token.startswith("vl_")


# --- over HTTP (needs the app to pass its throttle to every Context) -------------------------


@pytest.fixture
def settings(db_config: Any) -> Settings:
    return Settings(database=db_config, secret_key=SECRET_KEY, limits=LIMITS)


def login_error(client: Any, email: str, password: str) -> dict[str, Any]:
    body = client.post(LOGIN, {"email": email, "password": password})
    assert body.get("data") is None, body
    [error] = body["errors"]
    return dict(error)


def test_over_http_the_refusal_is_forbidden_with_retry_after(client: Any, factory: Any) -> None:
    factory.user(email="grace@example.com")
    for _ in range(3):
        assert login_error(client, "grace@example.com", WRONG)["extensions"]["code"] == "UNAUTHENTICATED"

    error = login_error(client, "grace@example.com", FACTORY_PASSWORD)
    assert error["extensions"]["code"] == "FORBIDDEN"
    wait = error["extensions"]["retryAfter"]
    assert WINDOW - 60 < wait <= WINDOW  # the app's real clock has moved on a little
    assert error["message"] == f"too many failed sign-in attempts: try again in {wait} seconds"
    assert error["path"] == ["login"]


def test_over_http_ordinary_requests_and_registrations_never_count(client: Any, factory: Any) -> None:
    factory.user(email="grace@example.com")
    for n in range(6):  # more than either limit
        client.data(REGISTER, register_input(email=f"new{n}@example.com"))
        assert client.post(ME, token="vl_not-a-real-token-at-all")["errors"][0]["extensions"] == {
            "code": "UNAUTHENTICATED"
        }
        client.data(LOGIN, {"email": "grace@example.com", "password": FACTORY_PASSWORD})

    # Every test client request comes from one address: five failures over five emails use it up.
    for n in range(5):
        assert login_error(client, f"new{n}@example.com", WRONG)["extensions"]["code"] == "UNAUTHENTICATED"
    error = login_error(client, "grace@example.com", FACTORY_PASSWORD)
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert WINDOW - 60 < error["extensions"]["retryAfter"] <= WINDOW


def test_over_http_the_wait_is_also_a_retry_after_header(client: Any, factory: Any) -> None:
    factory.user(email="hedy@example.com")
    for _ in range(3):
        login_error(client, "hedy@example.com", WRONG)
    response = client.http.post(
        "/graphql", json={"query": LOGIN, "variables": {"email": "hedy@example.com", "password": WRONG}}
    )
    wait = response.json()["errors"][0]["extensions"]["retryAfter"]
    assert response.headers["retry-after"] == str(wait)
    ordinary = client.http.post("/graphql", json={"query": "{ __typename }"})
    assert "retry-after" not in ordinary.headers
