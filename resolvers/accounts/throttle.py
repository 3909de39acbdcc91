"""Login throttling: failed sign-ins counted per email and per client address, in process memory.

A sliding window: a key (an email, an address) is blocked while `limit` of its failures fall within
the last `window` seconds, and unblocked when the oldest of them turns `window` seconds old. Only
the last `limit` failure times of a key are kept, and at most `max_keys` keys per kind: beyond
that the key whose last failure is oldest is forgotten first, so spraying random emails costs a
bounded amount of memory (and, through the address limit, needs many addresses to evict a victim).

An attempt counts as failed from the moment it is let through, before the password is verified,
so concurrent guesses cannot all slip in under the limit while their hashes are computed; a
success or a failure of ours (the database) takes that back. A success also forgets the email's
failures (its owner proved they know the password, so earlier typos must not lock them out
later) but not the address's: an attacker who owns one account must not be able to reset their
address's count by signing into it between guesses.

The state lives in one process: with `--workers N` each worker counts on its own.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from resolvers.config import Limits
from resolvers.errors import TooManyAttempts

Clock = Callable[[], float]

# Per kind. At the default limits an email key costs about 300 bytes and an address key about
# 1 KiB (measured with tracemalloc), so both full hold about 14 MB.
DEFAULT_MAX_KEYS = 10_000

# An IPv6 client usually holds a whole /64: counting its addresses one by one would let it
# rotate through them.
_IPV6_PREFIX = 64


def _key(text: str) -> bytes:
    # Fixed-size whatever the client sent (login does not bound the email's length), and no
    # plaintext emails kept in memory. surrogatepass: a lone surrogate in JSON must not raise here.
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


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


class _Window:
    """Failure times per key, oldest key first; not locked (LoginThrottle locks around it)."""

    def __init__(self, limit: int, window: float, max_keys: int) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self.failures: OrderedDict[bytes, list[float]] = OrderedDict()

    def wait(self, key: bytes, now: float) -> float:
        """Seconds until `key` may try again; 0 when it may now."""
        times = self.failures.get(key)
        if times is None:
            return 0.0
        expired = sum(1 for t in times if t <= now - self.window)
        del times[:expired]
        if not times:
            del self.failures[key]
            return 0.0
        if len(times) < self.limit:
            return 0.0
        return times[-self.limit] + self.window - now

    def add(self, key: bytes, now: float) -> None:
        times = self.failures.setdefault(key, [])
        times.append(now)
        # Only the last `limit` failures decide anything.
        del times[: -self.limit]
        self.failures.move_to_end(key)
        while len(self.failures) > self.max_keys:
            self.failures.popitem(last=False)

    def discard(self, key: bytes, at: float) -> None:
        times = self.failures.get(key)
        if times is not None and at in times:
            times.remove(at)
            if not times:
                del self.failures[key]

    def clear(self, key: bytes) -> None:
        self.failures.pop(key, None)


class Attempt:
    """One sign-in let through: counted as failed until `succeed` or `abandon` says otherwise."""

    def __init__(
        self, throttle: LoginThrottle | None, email: bytes, address: bytes | None, at: float
    ) -> None:
        self._throttle = throttle
        self.email = email
        self.address = address
        self.at = at

    def succeed(self) -> None:
        """The password was right: forget the email's failures, and uncount this one."""
        if self._throttle is not None:
            self._throttle._settle(self, success=True)
            self._throttle = None

    def abandon(self) -> None:
        """It failed for a reason of ours, not a wrong guess: uncount it."""
        if self._throttle is not None:
            self._throttle._settle(self, success=False)
            self._throttle = None


class LoginThrottle:
    """One per app. No method awaits, so on one event loop each call is atomic; the lock makes
    that hold across threads too."""

    def __init__(
        self, limits: Limits, clock: Clock = time.monotonic, max_keys: int = DEFAULT_MAX_KEYS
    ) -> None:
        window = float(limits.login_window_seconds)
        self._emails = _Window(limits.login_failures_per_email, window, max_keys)
        self._addresses = _Window(limits.login_failures_per_address, window, max_keys)
        self._clock = clock
        self._lock = threading.Lock()

    def begin(self, email: str, address: str | None) -> Attempt:
        """Let a sign-in through and count it, or raise TooManyAttempts (FORBIDDEN, retryAfter)
        while the email or the address is over its limit, whatever the password: call it before
        verifying anything, so a refused attempt costs no hash. `email` must be normalised."""
        email_key = _key(email)
        address_key = _key(address_bucket(address)) if address else None
        with self._lock:
            now = self._clock()
            wait = self._emails.wait(email_key, now)
            if address_key is not None:
                wait = max(wait, self._addresses.wait(address_key, now))
            if wait > 0:
                raise too_many_attempts(wait)
            self._emails.add(email_key, now)
            if address_key is not None:
                self._addresses.add(address_key, now)
        return Attempt(self, email_key, address_key, now)

    def _settle(self, attempt: Attempt, success: bool) -> None:
        with self._lock:
            if success:
                self._emails.clear(attempt.email)
            else:
                self._emails.discard(attempt.email, attempt.at)
            if attempt.address is not None:
                self._addresses.discard(attempt.address, attempt.at)

    def tracked_keys(self) -> tuple[int, int]:
        """How many emails and addresses are held (the memory bound)."""
        with self._lock:
            return len(self._emails.failures), len(self._addresses.failures)


def begin(throttle: LoginThrottle | None, email: str, address: str | None) -> Attempt:
    """`throttle.begin`, or an attempt that counts nowhere when the app has no throttle."""
    if throttle is None:
        return Attempt(None, b"", None, 0.0)
    return throttle.begin(email, address)


def too_many_attempts(wait: float) -> TooManyAttempts:
    seconds = max(1, math.ceil(wait))
    unit = "second" if seconds == 1 else "seconds"
    return TooManyAttempts(f"too many failed sign-in attempts: try again in {seconds} {unit}", seconds)
