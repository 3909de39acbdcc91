"""Register, log in, log out: issuing and revoking bearer tokens.

Each successful call signs the caller in for the rest of the request (ctx.sign_in), so the answer's
`user { email }` is the caller's own view of themself.

One email rule on both backends (validation.email_key): emails that differ only in case or in the
accents of Latin, Greek or Cyrillic letters are one account. On MariaDB the email column's
collation (utf8mb4_general_ci) applies it, in the unique index and in every lookup; on SQLite the
queries below compare the same key, through a SQL function (models/database.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any

import peewee

from models import AccessToken, User, utcnow
from models.database import GENERAL_CI_KEY
from resolvers import passwords
from resolvers.accounts import throttle
from resolvers.accounts.tokens import expiry, new_token, token_hash
from resolvers.accounts.validation import (
    MAX_PASSWORD_LENGTH,
    ValidationError,
    email_key,
    normalise_email,
    validate_registration,
)
from resolvers.accounts.viewer import Viewer
from resolvers.context import Context
from resolvers.db import execute, fetch, transaction
from resolvers.errors import BadUserInput, Conflict, Unauthenticated

# One message for an unknown email and a wrong password: which of the two must not be learnable.
LOGIN_FAILED = "wrong email or password"


def taken_message(email: str) -> str:
    return (
        f"an account with the email {email} already exists (emails that differ only in case or "
        "accents are one account): log in instead"
    )


class EmailTaken(Exception):
    """Another account already has this email, by the rule above."""


def _collates(db: Any) -> bool:
    """Whether the database compares emails by the rule itself (MariaDB's collation)."""
    return isinstance(db, peewee.MySQLDatabase)


def _same_email(email: str, *others: peewee.Expression) -> peewee.ModelSelect[User]:
    """SQLite: the users whose email is one account with the normalised `email`. No index can
    hold the key (SQLite would need the Python function to write the table, and tools outside
    the server write it), so this reads every email: a key is as long as its email, so lengths
    are compared first and the function runs for few rows (20 to 40 ms per 100,000 accounts)."""
    key = email_key(email)
    same_key = getattr(peewee.fn, GENERAL_CI_KEY)(User.email) == key
    return User.select().where(peewee.fn.LENGTH(User.email) == len(key), same_key, *others)


def account_query(db: Any, email: str) -> peewee.ModelSelect[User]:
    """The users a normalised email may sign in to, as the rule matches them: one, or none (or,
    on SQLite, several stored before the rule: see pick_account)."""
    if _collates(db):
        return User.select().where(User.email == email).limit(1)
    return _same_email(email)


def pick_account(rows: list[User], email: str) -> User | None:
    """Of several accounts one by the rule (SQLite, stored before it): the exact spelling, else
    the oldest."""
    return min(rows, key=lambda user: (user.email != email, user.id), default=None)


async def find_account(db: Any, email: str) -> User | None:
    """The account a normalised email signs in to. On SQLite the exact spelling first, through
    the unique index: it is the one pick_account prefers, and the usual case needs no scan."""
    if not _collates(db):
        exact = await fetch(db, User.select().where(User.email == email))
        if exact:
            return exact[0]
    return pick_account(await fetch(db, account_query(db, email)), email)


def twin_query(email: str, user_id: int) -> peewee.ModelSelect[User]:
    """SQLite: the other accounts that are one with `email` by the rule."""
    return _same_email(email, User.id != user_id)


def create_user(db: Any, fields: dict[str, Any]) -> User:
    """For `videolib create-user` (sync peewee, inside the caller's transaction): insert, then on
    SQLite look for a twin. The INSERT takes SQLite's write lock first, so a registration racing
    this one waits, and whichever comes second sees the first: raises EmailTaken."""
    try:
        user = User.create(**fields)
    except peewee.IntegrityError:
        raise EmailTaken(fields["email"]) from None
    if not _collates(db) and list(twin_query(fields["email"], user.id)):
        raise EmailTaken(fields["email"])
    return user


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
            raise Conflict(taken_message(email)) from None
        # SQLite: the index compares bytes, so josé@ and jose@ pass it; look for a twin by the
        # rule, after the INSERT: it holds the write lock, so a racing registration waits for this
        # transaction and then finds its row. A twin rolls this one back.
        if not _collates(ctx.db) and await ctx.db.list(twin_query(email, user_id)):
            raise Conflict(taken_message(email))
        await ctx.db.aexecute(_token_row(user_id, issued, now))
        return user_id

    user_id = await transaction(ctx.db, work)
    return _start(ctx, User(id=user_id, **fields), issued)


def _client_address(ctx: Context) -> str | None:
    client = ctx.request.client if ctx.request is not None else None
    return client.host if client is not None else None


async def _password_matches(user: User | None, password: str) -> bool:
    if len(password) > MAX_PASSWORD_LENGTH:
        # No account can have it (register refuses it), and hashing it is work an attacker chooses.
        return False
    # An unknown email still costs one verification (against a dummy hash), so timing tells nothing.
    return await passwords.verify_password_async(user.password_hash if user else None, password)


async def login(ctx: Context, email: str, password: str) -> Session:
    """A new token for the right email and password; UNAUTHENTICATED, one message, otherwise.
    Any spelling of the email that is one account with it by the rule above signs in to it.
    FORBIDDEN with extensions.retryAfter, even for the right password, while the account (or,
    for an unknown email, its key) or the client address has too many recent failures
    (resolvers/accounts/throttle.py)."""
    email = normalise_email(email)
    # The lookup first (an index or, on SQLite, a scan; no hash), so the attempt counts against
    # what it matched: every spelling of one account shares one count.
    user = await find_account(ctx.db, email)
    key = throttle.user_key(user.id) if user is not None else throttle.email_key(email_key(email))
    # Before anything is verified, so a refused attempt costs no hash.
    attempt = await throttle.begin(ctx.throttle, key, _client_address(ctx))
    try:
        matches = await _password_matches(user, password)
    except asyncio.CancelledError:
        attempt.fail()  # the client gave up, but its hash runs to the end: it counts
        raise
    except BaseException:
        attempt.abandon()  # ours (the hasher), not a wrong guess
        raise
    if not matches:
        attempt.fail()
        raise Unauthenticated(LOGIN_FAILED)
    assert user is not None  # verify_password is False without a hash
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
