"""The contract's error codes. Raise these; anything else reaches clients as INTERNAL_SERVER_ERROR."""

from __future__ import annotations

from graphql import GraphQLError

# Every extensions.code a client may meet: the contract's six, and the persisted-query protocol's.
ERROR_CODES = (
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "BAD_USER_INPUT",
    "CONFLICT",
    "INTERNAL_SERVER_ERROR",
    "PERSISTED_QUERY_NOT_FOUND",
)


class ApiError(GraphQLError):
    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": self.code})


class InternalError(ApiError):
    """Our failure, already logged: the client learns only that it happened."""

    def __init__(self) -> None:
        # The request id added to the error (schema/http/view.py) finds the trace in the server log.
        super().__init__("Internal server error")


class ServerBusy(ApiError):
    """Every database connection stayed taken for the whole wait (VIDEOLIB_DB_READ_TIMEOUT): the
    server is overloaded, not broken, and asking again shortly may succeed."""

    RETRY_AFTER = 1

    def __init__(self) -> None:
        super().__init__("The server is busy: try again in a moment.")
        self.extensions = {"code": self.code, "retryAfter": self.RETRY_AFTER}


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


class TooManyAttempts(Forbidden):
    """Refused for a while rather than for good: extensions.retryAfter says how many seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.extensions = {"code": self.code, "retryAfter": retry_after}
