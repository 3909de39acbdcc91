from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from models import User as UserRow
from resolvers.accounts import service
from resolvers.accounts.service import Session
from resolvers.accounts.viewer import Viewer
from resolvers.context import Context
from resolvers.visibility import is_admin
from schema.ids import global_id
from schema.node import Node
from schema.permissions import SIGNED_IN


@strawberry.enum(
    description="What a user may do. Every `register` creates a MEMBER; admins are made with the "
    "`videolib create-user --admin` command."
)
class Role(Enum):
    # Values are the stored strings: resolvers hand graphql-core raw strings, which it maps
    # with a dict lookup instead of strawberry's per-value enum scan.
    MEMBER = strawberry.enum_value(
        "member",
        description="A signed-in viewer: may react to videos and save progress; sees only published "
        "videos in active categories.",
    )
    ADMIN = strawberry.enum_value(
        "admin",
        description="May also curate (create, update and delete categories and videos) and sees "
        "drafts and inactive categories everywhere.",
    )


@strawberry.type(
    name="User",
    description="An account. Anyone may see a user's displayName and role (as a video's uploadedBy, or "
    "through node); email only the user themself and admins.",
)
class UserType(Node):
    display_name: str = strawberry.field(description="The public name shown to everyone, 1..100 characters.")
    role: Role = strawberry.field(description="MEMBER or ADMIN; read from the database on every request.")
    email: str | None = strawberry.field(
        description="Visible to the user themself and to admins; null for everyone else."
    )
    created_at: dt.datetime = strawberry.field(description="When the account was registered (UTC).")

    @classmethod
    def build(cls, row: UserRow, viewer: Viewer | None) -> UserType:
        own = viewer is not None and viewer.id == row.id
        return cls(
            id=strawberry.ID(global_id("User", row.id)),
            display_name=row.display_name,
            role=row.role,  # type: ignore[arg-type]  # the stored string, on purpose: see Role
            email=row.email if own or is_admin(viewer) else None,
            created_at=row.created_at,
        )


@strawberry.type
class AccountQuery:
    @strawberry.field(description="The signed-in user; null when anonymous.")
    def me(self, info: Info[Context, None]) -> UserType | None:
        viewer = info.context.viewer
        return UserType.build(viewer.user, viewer) if viewer is not None else None


@strawberry.input(description="A new member account (Mutation.register).")
class RegisterInput:
    email: str = strawberry.field(
        description="Trimmed and lowercased, then checked: one @, no spaces, a dot in the domain, at "
        "most 254 characters, no control or invisible character (BAD_USER_INPUT otherwise). Unique: a "
        "taken email is CONFLICT."
    )
    password: str = strawberry.field(description="At least 8 characters.")
    display_name: str = strawberry.field(
        description="Shown to everyone; trimmed, 1..100 characters, something visible among them, no "
        "control or invisible formatting character, and no copy of a name reserved for the operator "
        "('VideoLib Studio', 'VideoLib'), whatever its case, spacing or accents (BAD_USER_INPUT "
        "otherwise; README: Input rules)."
    )


@strawberry.type(description="A signed-in session: the answer of register and login.")
class AuthPayload:
    token: str = strawberry.field(description="Send as 'Authorization: Bearer <token>'.")
    user: UserType = strawberry.field(description="The user the token signs in, email included.")

    @classmethod
    def build(cls, session: Session) -> AuthPayload:
        return cls(token=session.token, user=UserType.build(session.viewer.user, session.viewer))


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="CONFLICT when the email is taken; BAD_USER_INPUT on a malformed email or short "
        "password. Anyone may call it: it creates a MEMBER and signs them in with a new token, valid for "
        "30 days."
    )
    async def register(
        self,
        info: Info[Context, None],
        input: Annotated[RegisterInput, strawberry.argument(description="The new account.")],
    ) -> AuthPayload:
        session = await service.register(info.context, input.email, input.password, input.display_name)
        return AuthPayload.build(session)

    @strawberry.mutation(
        description="UNAUTHENTICATED on wrong email or password, with one message for both. "
        "Anyone may call it; the answer's token is valid for 30 days. Too many failures for one email "
        "or from one client address are FORBIDDEN, with extensions.retryAfter giving the wait in "
        "seconds, even for the right password."
    )
    async def login(
        self,
        info: Info[Context, None],
        email: Annotated[
            str, strawberry.argument(description="The account's email; trimmed and lowercased before lookup.")
        ],
        password: Annotated[str, strawberry.argument(description="The account's password.")],
    ) -> AuthPayload:
        return AuthPayload.build(await service.login(info.context, email, password))

    @strawberry.mutation(
        permission_classes=SIGNED_IN,
        description=(
            "Revokes the token this request was made with; later requests with it are UNAUTHENTICATED. "
            "Signed-in only (UNAUTHENTICATED when anonymous). The user's other tokens keep working; "
            "answers true."
        ),
    )
    async def logout(self, info: Info[Context, None]) -> bool:
        viewer = info.context.viewer
        assert viewer is not None  # SIGNED_IN
        return await service.logout(info.context, viewer)
