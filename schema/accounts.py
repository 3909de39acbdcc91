from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.types import Info

from models import User as UserRow
from resolvers.accounts.viewer import Viewer
from resolvers.context import Context
from resolvers.visibility import is_admin
from schema.ids import global_id
from schema.node import Node


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
            role=row.role,
            email=row.email if own or is_admin(viewer) else None,
            created_at=row.created_at,
        )


@strawberry.type
class AccountQuery:
    @strawberry.field(description="The signed-in user; null when anonymous.")
    def me(self, info: Info[Context, None]) -> UserType | None:
        viewer = info.context.viewer
        return UserType.build(viewer.user, viewer) if viewer is not None else None
