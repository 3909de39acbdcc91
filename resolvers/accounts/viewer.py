"""Who is asking: the user behind `Authorization: Bearer <token>`, read fresh on every request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models import AccessToken, User, utcnow
from resolvers.accounts.tokens import looks_like_token, token_hash
from resolvers.db import fetch
from resolvers.errors import Unauthenticated

INVALID_TOKEN = "the access token is invalid, expired or revoked: log in again"


@dataclass(frozen=True)
class Viewer:
    user: User
    token_hash: str

    @property
    def id(self) -> int:
        return int(self.user.id)

    @property
    def is_admin(self) -> bool:
        return bool(self.user.role == "admin")


def bearer_token(authorization: str | None) -> str | None:
    """The token of an Authorization header; None when there is no header at all."""
    if authorization is None or not authorization.strip():
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    return token.strip()


async def authenticate(db: Any, secret_key: bytes, authorization: str | None) -> Viewer | None:
    """The viewer, None when anonymous. A bad, expired or revoked token is UNAUTHENTICATED,
    never anonymous."""
    token = bearer_token(authorization)
    if token is None:
        return None
    if not looks_like_token(token):
        raise Unauthenticated(INVALID_TOKEN)
    digest = token_hash(secret_key, token)
    # One statement: the token and its user, so the role is always the current one.
    query = (
        User.select(User)
        .join(AccessToken)
        .where((AccessToken.token_hash == digest) & (AccessToken.expires_at > utcnow()))
    )
    rows = await fetch(db, query)
    if not rows:
        raise Unauthenticated(INVALID_TOKEN)
    return Viewer(user=rows[0], token_hash=digest)
