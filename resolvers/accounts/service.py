"""Register, log in, log out: issuing and revoking bearer tokens.

Each successful call signs the caller in for the rest of the request (ctx.sign_in), so the answer's
`user { email }` is the caller's own view of themself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import peewee

from models import AccessToken, User, utcnow
from resolvers import passwords
from resolvers.accounts import throttle
from resolvers.accounts.tokens import expiry, new_token, token_hash
from resolvers.accounts.validation import (
    MAX_PASSWORD_LENGTH,
    ValidationError,
    normalise_email,
    validate_registration,
)
from resolvers.accounts.viewer import Viewer
from resolvers.context import Context
from resolvers.db import execute, fetch, transaction
from resolvers.errors import BadUserInput, Conflict, Unauthenticated

# One message for an unknown email and a wrong password: which of the two must not be learnable.
LOGIN_FAILED = "wrong email or password"


@dataclass(frozen=True)
class Session:
    """A freshly issued token (shown to the client once) and the viewer it stands for."""

    token: str
    viewer: Viewer


@dataclass(frozen=True)
class _Issued:
    token: str
    digest: str
    expires_at: dt.datetime


def _issue(ctx: Context, now: dt.datetime) -> _Issued:
    token = new_token()
    digest = token_hash(ctx.settings.secret_key, token)
    return _Issued(token, digest, expiry(now, ctx.settings.token_ttl_seconds))


def _token_row(user_id: int, issued: _Issued, now: dt.datetime) -> peewee.Insert:
    return AccessToken.insert(
        user=user_id, token_hash=issued.digest, created_at=now, expires_at=issued.expires_at
    )


def _start(ctx: Context, user: User, issued: _Issued) -> Session:
    viewer = Viewer(user=user, token_hash=issued.digest)
    ctx.sign_in(viewer)
    return Session(token=issued.token, viewer=viewer)


async def register(ctx: Context, email: str, password: str, display_name: str) -> Session:
    """A new member and their first token, in one transaction. CONFLICT when the email is taken."""
    email = normalise_email(email)
    try:
        validate_registration(email, password, display_name)
    except ValidationError as exc:
        raise BadUserInput(str(exc)) from None
    # Slow on purpose, so it runs before the transaction rather than holding it open.
    password_hash = await passwords.hash_password_async(password)
    now = utcnow()
    issued = _issue(ctx, now)
    fields = {
        "email": email,
        "password_hash": password_hash,
        "display_name": display_name.strip(),
        "role": "member",
        "created_at": now,
        "updated_at": now,
    }

    async def work() -> int:
        # The unique index decides a race between two registrations of one email: no check-then-insert.
        # Only this INSERT's failure means "taken"; any other one is ours and must not read as CONFLICT.
        try:
            user_id = int(await ctx.db.aexecute(User.insert(fields)))
        except peewee.IntegrityError:
            raise Conflict(f"an account with the email {email} already exists: log in instead") from None
        await ctx.db.aexecute(_token_row(user_id, issued, now))
        return user_id

    user_id = await transaction(ctx.db, work)
    return _start(ctx, User(id=user_id, **fields), issued)


def _client_address(ctx: Context) -> str | None:
    client = ctx.request.client if ctx.request is not None else None
    return client.host if client is not None else None


async def _verified_user(ctx: Context, email: str, password: str) -> User:
    if len(password) > MAX_PASSWORD_LENGTH:
        # No account can have it (register refuses it), and hashing it is work an attacker chooses.
        raise Unauthenticated(LOGIN_FAILED)
    rows = await fetch(ctx.db, User.select().where(User.email == email))
    user: User | None = rows[0] if rows else None
    # An unknown email still costs one verification (against a dummy hash), so timing tells nothing.
    if not await passwords.verify_password_async(user.password_hash if user else None, password):
        raise Unauthenticated(LOGIN_FAILED)
    assert user is not None  # verify_password is False without a hash
    return user


async def login(ctx: Context, email: str, password: str) -> Session:
    """A new token for the right email and password; UNAUTHENTICATED, one message, otherwise.
    FORBIDDEN with extensions.retryAfter, even for the right password, while the email or the
    client address has too many recent failures (resolvers/accounts/throttle.py)."""
    email = normalise_email(email)
    # Before anything is verified, so a refused attempt costs no hash. Keyed on the email whether
    # or not it has an account, so the refusal tells nothing about which emails exist.
    attempt = throttle.begin(ctx.throttle, email, _client_address(ctx))
    try:
        user = await _verified_user(ctx, email, password)
    except Unauthenticated:
        raise  # a failed attempt: it stays counted
    except Exception:
        # The database, not a wrong guess: not the caller's failure. (A cancelled request stays
        # counted: its hash is computed anyway.)
        attempt.abandon()
        raise
    attempt.succeed()
    old_hash = user.password_hash
    new_hash = await passwords.hash_password_async(password) if passwords.needs_rehash(old_hash) else None
    now = utcnow()
    issued = _issue(ctx, now)

    async def work() -> None:
        if new_hash is not None:
            # Only over the hash just verified: a password changed meanwhile wins.
            await ctx.db.aexecute(
                User.update(password_hash=new_hash, updated_at=now).where(
                    (User.id == user.id) & (User.password_hash == old_hash)
                )
            )
        # Housekeeping, so the table does not grow with every login: this user's dead tokens.
        await ctx.db.aexecute(
            AccessToken.delete().where((AccessToken.user == user.id) & (AccessToken.expires_at <= now))
        )
        await ctx.db.aexecute(_token_row(user.id, issued, now))

    await transaction(ctx.db, work)
    if new_hash is not None:
        user.password_hash = new_hash
    return _start(ctx, user, issued)


async def logout(ctx: Context, viewer: Viewer) -> bool:
    """Revoke the token of this request only; the user's other sessions keep working."""
    await execute(ctx.db, AccessToken.delete().where(AccessToken.token_hash == viewer.token_hash))
    ctx.sign_in(None)
    return True
