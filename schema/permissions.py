"""Who may call what. Listed in order on a field: the first that fails raises its contract code."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from resolvers.errors import Forbidden, Unauthenticated
from resolvers.visibility import is_admin


class IsAuthenticated(BasePermission):
    message = "sign in first: send 'Authorization: Bearer <token>'"
    error_class = Unauthenticated

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.viewer is not None


class IsAdmin(BasePermission):
    """Use after IsAuthenticated, so anonymous callers get UNAUTHENTICATED rather than FORBIDDEN."""

    message = "only admins may do this"
    error_class = Forbidden

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return is_admin(info.context.viewer)


SIGNED_IN: list[type[BasePermission]] = [IsAuthenticated]
ADMIN_ONLY: list[type[BasePermission]] = [IsAuthenticated, IsAdmin]
