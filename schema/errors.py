"""Every error leaves with one of the contract's codes, and nothing internal leaks."""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from models.database import DatabaseBusy, StatementLimitExceeded
from resolvers.errors import ApiError, BadUserInput, InternalError, ServerBusy

log = logging.getLogger("videolib.errors")

INTERNAL_MESSAGE = InternalError().message


def is_unexpected(error: GraphQLError) -> bool:
    """A failure of ours (a bug, a database outage), as opposed to a refusal of the request."""
    if isinstance(error.original_error, ApiError | DatabaseBusy | StatementLimitExceeded):
        return False
    # No path: parsing, validation or variable coercion, all the client's input.
    return error.original_error is not None and error.path is not None


class ContractErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message=INTERNAL_MESSAGE)

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return super()._process_errors([_as_api_error(e) for e in errors])

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
        return masked


def _as_api_error(error: GraphQLError) -> GraphQLError:
    """The database's refusals of a request, told as the contract's errors: the pool stayed full
    (the server is busy, not broken) or the request ran out of statements."""
    original = error.original_error
    replacement: ApiError
    if isinstance(original, DatabaseBusy):
        log.warning("no database connection came free within %gs", original.waited)
        replacement = ServerBusy()
    elif isinstance(original, StatementLimitExceeded):
        replacement = BadUserInput(
            f"This request ran more than {original.limit} SQL statements (VIDEOLIB_MAX_STATEMENTS): "
            "split it into several requests."
        )
    else:
        return error
    return GraphQLError(
        replacement.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=replacement,
        extensions=replacement.extensions,
    )


def with_codes(response: dict[str, Any]) -> dict[str, Any]:
    """Every error left without a code is about the request itself: one that did not parse or
    validate, or whose variables did not fit. (Ours carry their codes; unexpected ones were masked.)"""
    for error in response.get("errors") or ():
        error.setdefault("extensions", {}).setdefault("code", "BAD_USER_INPUT")
    return response


def log_unexpected(errors: list[GraphQLError]) -> None:
    for error in errors:
        if is_unexpected(error):
            log.error("unexpected error at %s", error.path, exc_info=error.original_error)
