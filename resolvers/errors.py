"""The contract's error codes. Raise these; anything else reaches clients as INTERNAL_SERVER_ERROR."""

from __future__ import annotations

from graphql import GraphQLError


class ApiError(GraphQLError):
    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": self.code})


class InternalError(ApiError):
    """Our failure, already logged: the client learns only that it happened."""

    def __init__(self) -> None:
        super().__init__("Internal server error: it has been logged; please try again later.")


class Unauthenticated(ApiError):
    code = "UNAUTHENTICATED"


class Forbidden(ApiError):
    code = "FORBIDDEN"


class NotFound(ApiError):
    code = "NOT_FOUND"


class BadUserInput(ApiError):
    code = "BAD_USER_INPUT"


class Conflict(ApiError):
    code = "CONFLICT"
