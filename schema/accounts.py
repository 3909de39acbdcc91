from __future__ import annotations

import datetime as dt
from enum import Enum

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


@strawberry.enum
class Role(Enum):
    # Values are the stored strings: resolvers hand graphql-core raw strings, which it maps
    # with a dict lookup instead of strawberry's per-value enum scan.
    MEMBER = "member"
    ADMIN = "admin"


@strawberry.type(name="User")
class UserType(Node):
    display_name: str
    role: Role
    email: str | None = strawberry.field(
        description="Visible to the user themself and to admins; null for everyone else."
    )
    created_at: dt.datetime

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


@strawberry.input
class RegisterInput:
    email: str
    password: str = strawberry.field(description="At least 8 characters.")
    display_name: str


@strawberry.type
class AuthPayload:
    token: str = strawberry.field(description="Send as 'Authorization: Bearer <token>'.")
    user: UserType

    @classmethod
    def build(cls, session: Session) -> AuthPayload:
        return cls(token=session.token, user=UserType.build(session.viewer.user, session.viewer))


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="CONFLICT when the email is taken; BAD_USER_INPUT on a malformed email or short password."
    )
    async def register(self, info: Info[Context, None], input: RegisterInput) -> AuthPayload:
        session = await service.register(info.context, input.email, input.password, input.display_name)
        return AuthPayload.build(session)

    @strawberry.mutation(description="UNAUTHENTICATED on wrong email or password, with one message for both.")
    async def login(self, info: Info[Context, None], email: str, password: str) -> AuthPayload:
        return AuthPayload.build(await service.login(info.context, email, password))

    @strawberry.mutation(
        permission_classes=SIGNED_IN,
        description=(
            "Revokes the token this request was made with; later requests with it are UNAUTHENTICATED."
        ),
    )
    async def logout(self, info: Info[Context, None]) -> bool:
        viewer = info.context.viewer
        assert viewer is not None  # SIGNED_IN
        return await service.logout(info.context, viewer)
