"""Opaque bearer tokens.

The client gets 32 random bytes; the database keeps only HMAC-SHA256(secret key, token). A stolen
database therefore yields no usable token, logout is one DELETE, and every check is one indexed
lookup joined to the user, so a role change applies on the next request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

PREFIX = "vl_"
_TOKEN_BYTES = 32


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)


def token_hash(secret_key: bytes, token: str) -> str:
    return hmac.new(secret_key, token.encode(), hashlib.sha256).hexdigest()


def looks_like_token(token: str) -> bool:
    # Refuse obvious garbage before it costs a query.
    return token.startswith(PREFIX) and 16 < len(token) < 128


def expiry(now: dt.datetime, ttl_seconds: int) -> dt.datetime:
    return now + dt.timedelta(seconds=ttl_seconds)
