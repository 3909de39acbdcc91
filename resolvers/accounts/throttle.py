"""Login throttling: failed sign-ins counted per account and per client address, in process memory.

What is counted. Login looks the account up first (one indexed query, no hash) and counts the
attempt against what the lookup matched: the user's id when it found one, so that every spelling
the database takes for that account (víctim@ and VICTIM@ for victim@ on MariaDB) shares one count,
and otherwise the email's collation key (resolvers.accounts.validation.email_key), which joins at
least what the lookup would have, so an unknown email and an existing one are refused alike.

A sliding window: a key is blocked while `limit` of its failures fall within the last `window`
seconds. Only the last `limit` failure times of a key are kept, and at most `max_keys` keys per
kind: beyond that the key used least recently is forgotten first, so spraying random emails costs
a bounded amount of memory (and, through the address limit, needs many addresses to evict a
victim).

Attempts in flight. An attempt let through is pending until its password has been checked: it
is a failure only once it failed, so parallel sign-ins with the right password are never refused
for failures that did not happen. While the failures and the pending attempts of a key together
reach the limit, a new attempt waits for the pending ones to settle (a hash, a query: well under
a second) rather than guess: then it is let through, or refused because they failed. So
concurrent guesses cannot slip in under the limit either.

A refusal is true. An attempt is let through only while failures + pending < limit, and a
pending one becomes at most one failure (dated when it was let through), so failures + pending
never exceed the limit: a key refused for `limit` failures has nothing pending, and nothing can
add a failure to it before its oldest one leaves the window. That time is the retryAfter given,
and an attempt then is let through. (A success of the owner's only cuts the wait short.)

A success forgets the account's failures (its owner proved they know the password, so earlier
typos must not lock them out later) but not the address's: an attacker who owns one account must
not be able to reset their address's count by signing into it between guesses.

The state lives in one process: with `--workers N` each worker counts on its own.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import hashlib
import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from resolvers.config import Limits
from resolvers.errors import TooManyAttempts

Clock = Callable[[], float]

# Per kind. At the default limits an account key costs about 300 bytes and an address key about
# 1 KiB (measured with tracemalloc), so both full hold about 14 MB.
DEFAULT_MAX_KEYS = 10_000

# An IPv6 client usually holds a whole /64: counting its addresses one by one would let it
# rotate through them.
_IPV6_PREFIX = 64


def _key(text: str) -> bytes:
    # Fixed-size whatever the client sent (login does not bound the email's length), and no
    # plaintext emails kept in memory. surrogatepass: a lone surrogate in JSON must not raise here.
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def user_key(user_id: int) -> str:
    """The throttle key of an account the lookup found."""
    return f"user:{user_id}"


def email_key(folded_email: str) -> str:
    """The throttle key of an email no account has: its collation key, never a user id."""
    return f"email:{folded_email}"


def address_bucket(host: str) -> str:
    """What one client address counts as: the address itself, or its /64 for IPv6."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host  # not an IP (a Unix socket, the test client): taken as given
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, _IPV6_PREFIX), strict=False))
    return str(ip)


@dataclass
class _Entry:
    failures: list[float] = field(default_factory=list)  # let-through times of failed attempts, sorted
    pending: list[float] = field(default_factory=list)  # let-through times of attempts in flight


class _Window:
    """Entries per key, least recently used first; not locked (LoginThrottle locks around it)."""

    def __init__(self, limit: int, window: float, max_keys: int) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self.entries: OrderedDict[bytes, _Entry] = OrderedDict()

    def check(self, key: bytes, now: float) -> tuple[float, bool]:
        """(seconds until `key` may try again, or 0; whether it must first wait for its pending
        attempts to settle)."""
        entry = self.entries.get(key)
        if entry is None:
            return 0.0, False
        expired = bisect.bisect_right(entry.failures, now - self.window)
        del entry.failures[:expired]
        if not entry.failures and not entry.pending:
            del self.entries[key]
            return 0.0, False
        if len(entry.failures) >= self.limit:
            # Nothing is pending (see the module's docstring): free when the oldest one leaves.
            return entry.failures[-self.limit] + self.window - now, False
        return 0.0, len(entry.failures) + len(entry.pending) >= self.limit

    def let_through(self, key: bytes, now: float) -> None:
        entry = self.entries.get(key)
        if entry is None:
            entry = self.entries[key] = _Entry()
        entry.pending.append(now)
        self.entries.move_to_end(key)
        self._bound()

    def _bound(self) -> None:
        while len(self.entries) > self.max_keys:
            self.entries.popitem(last=False)

    def settle(self, key: bytes, at: float, failed: bool, forget: bool) -> None:
        entry = self.entries.get(key)
        if entry is None:
            if not failed:
                return  # forgotten meanwhile (max_keys): nothing to take back
            entry = self.entries[key] = _Entry()
            self._bound()
        if at in entry.pending:
            entry.pending.remove(at)
        if forget:
            entry.failures.clear()
        elif failed:
            bisect.insort(entry.failures, at)
            # Only the last `limit` failures decide anything.
            del entry.failures[: -self.limit]


class Attempt:
    """One sign-in let through: pending until `succeed`, `fail` or `abandon` settles it. Exactly
    one of them must be called (the first call counts), or the key's later attempts may wait."""

    def __init__(
        self, throttle: LoginThrottle | None, account: bytes, address: bytes | None, at: float
    ) -> None:
        self._throttle = throttle
        self.account = account
        self.address = address
        self.at = at

    def succeed(self) -> None:
        """The password was right: forget the account's failures; this one counts nowhere."""
        self._settle(failed=False, success=True)

    def fail(self) -> None:
        """A wrong password, an unknown email, or a guess given up on: one failure more."""
        self._settle(failed=True, success=False)

    def abandon(self) -> None:
        """It failed for a reason of ours (the database), not a wrong guess: it counts nowhere."""
        self._settle(failed=False, success=False)

    def _settle(self, failed: bool, success: bool) -> None:
        if self._throttle is not None:
            self._throttle._settle(self, failed=failed, success=success)
            self._throttle = None


class LoginThrottle:
    """One per app. The state is guarded by a lock, so calls from any thread are safe; waiting
    attempts are futures of their own event loop, woken through it."""

    def __init__(
        self, limits: Limits, clock: Clock = time.monotonic, max_keys: int = DEFAULT_MAX_KEYS
    ) -> None:
        window = float(limits.login_window_seconds)
        self._accounts = _Window(limits.login_failures_per_email, window, max_keys)
        self._addresses = _Window(limits.login_failures_per_address, window, max_keys)
        self._clock = clock
        self._lock = threading.Lock()
        self._waiters: list[asyncio.Future[None]] = []

    async def begin(self, account: str, address: str | None) -> Attempt:
        """Let a sign-in through, once the key's pending attempts leave room for it, or raise
        TooManyAttempts (FORBIDDEN, retryAfter) while the account key or the address is over its
        limit, whatever the password: call it before verifying anything, so a refused attempt
        costs no hash. `account` is user_key(...) or email_key(...)."""
        account_key = _key(account)
        address_key = _key(address_bucket(address)) if address else None
        while True:
            with self._lock:
                now = self._clock()
                wait, crowded = self._accounts.check(account_key, now)
                if address_key is not None:
                    address_wait, address_crowded = self._addresses.check(address_key, now)
                    wait, crowded = max(wait, address_wait), crowded or address_crowded
                if wait > 0:
                    raise too_many_attempts(wait)
                if not crowded:
                    self._accounts.let_through(account_key, now)
                    if address_key is not None:
                        self._addresses.let_through(address_key, now)
                    return Attempt(self, account_key, address_key, now)
                waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                self._waiters.append(waiter)
            try:
                await waiter  # until some attempt settles; then look again
            finally:
                with self._lock:
                    if waiter in self._waiters:
                        self._waiters.remove(waiter)

    def _settle(self, attempt: Attempt, failed: bool, success: bool) -> None:
        with self._lock:
            self._accounts.settle(attempt.account, attempt.at, failed, forget=success)
            if attempt.address is not None:
                self._addresses.settle(attempt.address, attempt.at, failed, forget=False)
            waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            # A closed event loop raises: nobody is waiting there any more.
            with contextlib.suppress(RuntimeError):
                waiter.get_loop().call_soon_threadsafe(_wake, waiter)

    def tracked_keys(self) -> tuple[int, int]:
        """How many account and address keys are held (the memory bound)."""
        with self._lock:
            return len(self._accounts.entries), len(self._addresses.entries)

    def waiting(self) -> int:
        """How many attempts wait for pending ones to settle."""
        with self._lock:
            return len(self._waiters)


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


async def begin(throttle: LoginThrottle | None, account: str, address: str | None) -> Attempt:
    """`throttle.begin`, or an attempt that counts nowhere when the app has no throttle."""
    if throttle is None:
        return Attempt(None, b"", None, 0.0)
    return await throttle.begin(account, address)


def too_many_attempts(wait: float) -> TooManyAttempts:
    seconds = max(1, math.ceil(wait))
    unit = "second" if seconds == 1 else "seconds"
    return TooManyAttempts(f"too many failed sign-in attempts: try again in {seconds} {unit}", seconds)
