"""Login throttling: failed sign-ins per email and per client address (resolvers/accounts/throttle.py).

Three layers: the LoginThrottle itself with a fake clock; the login service against a real database
on both backends, with a throttle of its own and a fake clock, so waiting out the window needs no
sleep; and the API over HTTP, which needs the app to hand its throttle to every request's Context.
"""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx2 as httpx
import peewee
import pytest
from starlette.requests import Request

from models import AccessToken
from models.database import bind, make_async_database
from resolvers import passwords
from resolvers.accounts import service
from resolvers.accounts.throttle import Attempt, LoginThrottle, address_bucket
from resolvers.config import Limits, Settings
from resolvers.context import Context
from resolvers.errors import TooManyAttempts, Unauthenticated
from tests.conftest import SECRET_KEY
from tests.live_server import live_server
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


def begin(throttle: LoginThrottle, key: str, address: str | None = "10.0.0.1") -> Attempt:
    """An attempt let through at once (never waiting), or TooManyAttempts."""

    async def main() -> Attempt:
        return await asyncio.wait_for(throttle.begin(key, address), timeout=5)

    return asyncio.run(main())


def fail(throttle: LoginThrottle, email: str, address: str | None = "10.0.0.1", times: int = 1) -> None:
    for _ in range(times):
        begin(throttle, email, address).fail()


def refused(throttle: LoginThrottle, email: str, address: str | None = "10.0.0.1") -> int:
    with pytest.raises(TooManyAttempts) as info:
        begin(throttle, email, address)
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
        begin(throttle, "ada@example.com", None)
    error = info.value
    assert error.message == "too many failed sign-in attempts: try again in 412 seconds"
    assert error.extensions == {"code": "FORBIDDEN", "retryAfter": 412}


def test_a_refused_attempt_does_not_extend_the_block(throttle: LoginThrottle, clock: FakeClock) -> None:
    fail(throttle, "ada@example.com", times=3)
    for _ in range(10):
        refused(throttle, "ada@example.com")
        clock.advance(WINDOW / 10 - 1)
    clock.advance(10)
    begin(throttle, "ada@example.com", None).succeed()


def test_success_forgets_the_emails_failures_but_not_the_addresses(throttle: LoginThrottle) -> None:
    fail(throttle, "ada@example.com", times=2)
    fail(throttle, "bob@example.com", times=2)
    begin(throttle, "ada@example.com", "10.0.0.1").succeed()

    # Ada starts again from zero: three more failures before a refusal.
    fail(throttle, "ada@example.com", address="10.0.0.2", times=3)
    refused(throttle, "ada@example.com", address="10.0.0.2")
    # The address kept its four failures (the success itself not counted): one more, then refused.
    fail(throttle, "carol@example.com")
    assert refused(throttle, "dave@example.com") > 0


def test_an_abandoned_attempt_counts_nowhere(throttle: LoginThrottle) -> None:
    for _ in range(10):
        begin(throttle, "ada@example.com", "10.0.0.1").abandon()
    fail(throttle, "ada@example.com", times=3)
    refused(throttle, "ada@example.com")


def test_the_address_limit_spans_emails(throttle: LoginThrottle) -> None:
    for n in range(5):
        fail(throttle, f"user{n}@example.com")
    assert refused(throttle, "someone-new@example.com") == WINDOW
    # The same email from elsewhere is fine: only the address is over its limit.
    begin(throttle, "someone-new@example.com", "10.0.0.2").succeed()


def test_ipv6_addresses_count_per_64(throttle: LoginThrottle) -> None:
    assert address_bucket("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert address_bucket("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert address_bucket("2001:db8:1:3::1") == "2001:db8:1:3::/64"
    assert address_bucket("::ffff:10.0.0.1") == address_bucket("10.0.0.1") == "10.0.0.1"
    assert address_bucket("testclient") == "testclient"
    for n in range(5):
        fail(throttle, f"user{n}@example.com", address=f"2001:db8:1:2::{n + 1}")
    refused(throttle, "user9@example.com", address="2001:db8:1:2:ffff::9")
    begin(throttle, "user9@example.com", "2001:db8:1:3::9").succeed()


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


# --- attempts in flight (issue 12: a refusal must be true) -------------------------------------


async def settled_soon(task: asyncio.Task[Any]) -> Any:
    return await asyncio.wait_for(task, timeout=5)


async def waiting_for(throttle: LoginThrottle, n: int) -> None:
    """Until `n` attempts wait in the throttle (they do at their first await)."""
    for _ in range(100):
        if throttle.waiting() == n:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"{throttle.waiting()} attempts wait, not {n}")


def test_an_attempt_in_flight_is_not_a_failure(throttle: LoginThrottle) -> None:
    async def scenario() -> None:
        # Three in flight for a limit of three: a fourth waits for one of them, it is not refused.
        in_flight = [await throttle.begin("ada@example.com", "10.0.0.1") for _ in range(3)]
        fourth = asyncio.create_task(throttle.begin("ada@example.com", "10.0.0.1"))
        await waiting_for(throttle, 1)
        assert not fourth.done()
        in_flight[0].succeed()  # the right password: the fourth goes ahead
        (await settled_soon(fourth)).succeed()
        for attempt in in_flight[1:]:
            attempt.succeed()
        assert throttle.waiting() == 0
        # Nothing failed: three more are let through at once.
        for _ in range(3):
            (await throttle.begin("ada@example.com", "10.0.0.1")).fail()

    asyncio.run(scenario())
    refused(throttle, "ada@example.com")


def test_a_wait_behind_failing_attempts_ends_in_a_refusal_that_holds(
    throttle: LoginThrottle, clock: FakeClock
) -> None:
    fail(throttle, "ada@example.com", times=2)
    clock.advance(100)

    async def scenario() -> TooManyAttempts:
        pending = await throttle.begin("ada@example.com", "10.0.0.1")
        clock.advance(50)
        waiter = asyncio.create_task(throttle.begin("ada@example.com", "10.0.0.2"))
        await waiting_for(throttle, 1)
        pending.fail()  # the third failure, as of when it was let through
        with pytest.raises(TooManyAttempts) as info:
            await settled_soon(waiter)
        return info.value

    error = asyncio.run(scenario())
    assert error.retry_after == WINDOW - 150  # until the first failure leaves the window
    clock.advance(WINDOW - 150 - 1)
    assert refused(throttle, "ada@example.com") == 1
    clock.advance(1)
    begin(throttle, "ada@example.com").succeed()  # exactly when it said: let through


def test_a_cancelled_attempt_counts_and_an_abandoned_one_does_not(throttle: LoginThrottle) -> None:
    async def scenario() -> None:
        first = await throttle.begin("ada@example.com", None)
        waiter = asyncio.create_task(throttle.begin("ada@example.com", None))
        for _ in range(2):
            (await throttle.begin("bob@example.com", None)).abandon()
        await asyncio.sleep(0)
        # A waiting request whose client hung up leaves nothing behind.
        first.abandon()
        (await settled_soon(waiter)).abandon()
        assert throttle.waiting() == 0

    asyncio.run(scenario())
    fail(throttle, "ada@example.com", address=None, times=3)
    refused(throttle, "ada@example.com", address=None)


# --- one count per account, whatever the spelling (issue 12: accents) --------------------------


def test_every_spelling_of_an_account_shares_its_count(
    run: Any, settings: Settings, factory: Any, throttle: LoginThrottle, verified: list[str]
) -> None:
    factory.user(email="victim@example.com")

    async def scenario(adb: Any) -> list[Any]:
        server = Server(settings, adb, throttle)
        # From three addresses, so no address limit is near: only the account's count refuses.
        outcomes: list[Any] = [
            await server.login(spelling, f"{WRONG} {n}", host=f"10.0.0.{n}")
            for n, spelling in enumerate(["victim@example.com", "víctim@example.com", "VÌCTIM@example.com"])
        ]
        for spelling in ["victim@example.com", "vïctim@example.com", "VICTIM@EXAMPLE.COM"]:
            outcomes.append(await server.login(spelling, FACTORY_PASSWORD, host="10.0.0.9"))
        return outcomes

    assert run(scenario) == ["UNAUTHENTICATED"] * 3 + [WINDOW] * 3
    assert verified == [f"{WRONG} {n}" for n in range(3)]  # the refused ones cost no hash


def test_every_spelling_of_an_unknown_email_shares_its_count(
    run: Any, settings: Settings, throttle: LoginThrottle, verified: list[str]
) -> None:
    async def scenario(adb: Any) -> list[Any]:
        server = Server(settings, adb, throttle)
        spellings = ["nobody@example.com", "nóbody@example.com", "NÔBODY@example.com", "nobody@example.com"]
        return [await server.login(s, WRONG, host=f"10.0.0.{n}") for n, s in enumerate(spellings)]

    # Refused alike whether or not an account exists: the refusal tells nothing about that.
    assert run(scenario) == ["UNAUTHENTICATED"] * 3 + [WINDOW]
    assert verified == [WRONG] * 3


def test_the_right_password_under_another_spelling_signs_in_to_the_account(
    run: Any, settings: Settings, factory: Any, throttle: LoginThrottle
) -> None:
    user = factory.user(email="josé@example.com")

    async def scenario(adb: Any) -> list[Any]:
        server = Server(settings, adb, throttle)
        spellings = ["jose@example.com", "JOSÉ@example.com", "jose\u0301@example.com", "josè@EXAMPLE.com"]
        sessions = [await service.login(server.context(), s, FACTORY_PASSWORD) for s in spellings]
        return [(s.viewer.user.id, s.viewer.user.email) for s in sessions]

    assert run(scenario) == [(user.id, "josé@example.com")] * 4


# --- the collation key against MariaDB ----------------------------------------------------------

# Pairs of emails, and whether they are one account: MariaDB's collation decides on MariaDB, the
# key of models/collation.py on SQLite, and the answers must be the same.
SPELLINGS = [
    ("josé@example.com", "jose@example.com", True),
    ("ÅSA@example.com", "asa@example.com", True),
    ("ñandú@example.com", "nandu@example.com", True),
    ("straße@example.com", "strase@example.com", True),  # general_ci: ß is s
    ("\u0131ris@example.com", "iris@example.com", True),  # dotless i
    ("ёлка@example.com", "елка@example.com", True),
    ("άλφα@example.com", "αλφα@example.com", True),
    ("a\U0001f600@example.com", "a\U0001f601@example.com", True),  # general_ci: all beyond U+FFFF alike
    ("йод@example.com", "иод@example.com", False),  # general_ci keeps the breve of й
    ("æble@example.com", "aeble@example.com", False),  # no expansions
    ("ﬁx@example.com", "fix@example.com", False),
    ("ǆ@example.com", "dž@example.com", False),
    ("ø@example.com", "o@example.com", False),
    ("đ@example.com", "d@example.com", False),
    ("\uff4aose@example.com", "jose@example.com", False),  # fullwidth j
    ("\u0622@example.com", "\u0627@example.com", False),  # alef with madda, alef: Arabic marks are kept
]


@pytest.mark.parametrize(("first", "second", "one_account"), SPELLINGS)
def test_the_database_and_the_key_agree_on_which_spellings_are_one_account(
    run: Any, settings: Settings, factory: Any, first: str, second: str, one_account: bool
) -> None:
    from resolvers.accounts.validation import email_key, normalise_email

    user = factory.user(email=normalise_email(first))

    async def scenario(adb: Any) -> list[Any]:
        rows = await adb.list(service.account_query(adb, normalise_email(second)))
        return [row.id for row in rows]

    assert run(scenario) == ([user.id] if one_account else [])
    assert (email_key(normalise_email(first)) == email_key(normalise_email(second))) is one_account


def test_the_key_joins_every_character_the_database_joins(db: Any, backend: str) -> None:
    """For every Latin, Greek and Cyrillic character: on MariaDB, the key joins what the users
    table's collation joins (it may join a little more: see models/collation.py); on SQLite, the
    SQL function the queries use gives the key."""
    from models.collation import general_ci_key
    from models.database import GENERAL_CI_KEY

    # As stored: normalised, so lower case (and ß and İ as normalise_email leaves them).
    characters = sorted(
        {
            normalise(chr(c))
            for block in (range(0x20, 0x250), range(0x370, 0x530), range(0x1E00, 0x2000))
            for c in block
            if unicodedata.category(chr(c)) not in ("Cn", "Cc", "Cs")
        }
    )
    if backend == "mysql":
        [(collation,)] = db.execute_sql(
            "SELECT COLLATION_NAME FROM information_schema.COLUMNS"
            " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'users' AND COLUMN_NAME = 'email'"
        ).fetchall()
        assert collation == "utf8mb4_general_ci"  # what the key reproduces, and the README asks for
        function = f"HEX(WEIGHT_STRING(%s COLLATE {collation}))"
    else:
        function = f"{GENERAL_CI_KEY}(?)"
    answers: dict[str, str] = {}
    for i in range(0, len(characters), 500):
        chunk = characters[i : i + 500]
        [row] = db.execute_sql("SELECT " + ", ".join(function for _ in chunk), chunk).fetchall()
        answers.update(zip(chunk, row, strict=True))
    assert len(answers) > 800

    if backend == "mysql":
        keys_of: dict[str, set[str]] = {}
        for ch, weight in answers.items():
            keys_of.setdefault(weight, set()).add(general_ci_key(ch))
        assert {w: keys for w, keys in keys_of.items() if len(keys) > 1} == {}
        # Not vacuous: accents are dropped, the case is folded, and ß is s.
        assert answers["é"] == answers["e"] == answers["ê"] and answers["ß"] == answers["s"]
    else:
        assert answers == {ch: general_ci_key(ch) for ch in characters}


def normalise(ch: str) -> str:
    from resolvers.accounts.validation import normalise_email

    return normalise_email(ch) if ch.strip() else ch


# --- parallel sign-ins over HTTP (a real server, so the requests truly overlap) ----------------


@pytest.fixture
def slow_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every verification takes a little longer, so parallel sign-ins are surely in flight together."""
    real = passwords.verify_password_async

    async def slow(password_hash: str | None, password: str) -> bool:
        await asyncio.sleep(0.2)
        return await real(password_hash, password)

    monkeypatch.setattr(passwords, "verify_password_async", slow)


async def login_at_once(base_url: str, logins: list[tuple[str, str]]) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        responses = await asyncio.gather(
            *(
                http.post("/graphql", json={"query": LOGIN, "variables": {"email": e, "password": p}})
                for e, p in logins
            )
        )
    return [dict(r.json()) for r in responses]


def outcome(body: dict[str, Any]) -> str | int:
    if not body.get("errors"):
        token = body["data"]["login"]["token"]
        assert isinstance(token, str) and token.startswith("vl_")
        return "ok"
    [error] = body["errors"]
    if error["extensions"]["code"] == "FORBIDDEN":
        return int(error["extensions"]["retryAfter"])
    return str(error["extensions"]["code"])


def test_parallel_sign_ins_with_the_right_password_are_never_refused(
    settings: Settings, db: Any, factory: Any, slow_hashing: None
) -> None:
    factory.user(email="grace@example.com")
    right = ("grace@example.com", FACTORY_PASSWORD)
    with live_server(settings) as base_url:
        # Eight at once for a limit of three; then again after two real failures (one from the
        # limit), with a spelling that is the same account.
        first = asyncio.run(login_at_once(base_url, [right] * 8))
        typos = asyncio.run(login_at_once(base_url, [("grace@example.com", WRONG)] * 2))
        second = asyncio.run(login_at_once(base_url, [("GRACÉ@example.com", FACTORY_PASSWORD)] * 8))
    assert [outcome(b) for b in first] == ["ok"] * 8
    assert [outcome(b) for b in typos] == ["UNAUTHENTICATED"] * 2
    assert [outcome(b) for b in second] == ["ok"] * 8
    with factory.bound():
        assert AccessToken.select().count() == 16


def test_parallel_wrong_guesses_are_refused_only_once_they_failed(
    settings: Settings, db: Any, factory: Any, slow_hashing: None
) -> None:
    factory.user(email="grace@example.com")
    guesses = [("grace@example.com", f"{WRONG} {n}") for n in range(4)]
    guesses += [("gracé@example.com", f"{WRONG} {n}") for n in range(4)]
    with live_server(settings) as base_url:
        outcomes = [outcome(b) for b in asyncio.run(login_at_once(base_url, guesses))]
    assert outcomes.count("UNAUTHENTICATED") == 3  # the limit, across both spellings
    waits = [o for o in outcomes if isinstance(o, int)]
    assert len(waits) == 5 and all(WINDOW - 60 < w <= WINDOW for w in waits), outcomes
