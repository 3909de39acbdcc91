"""Reading a GraphQL request (query, variables, operationName, extensions) from GET or POST.

Only application/json bodies are read. The content types a browser may send cross-site without a
CORS preflight (text/plain, application/x-www-form-urlencoded, multipart/form-data) are refused
with 415, so a page on another site cannot make a signed-in browser run a mutation (CSRF).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson


class HttpError(Exception):
    """A request refused before GraphQL sees it: answered with `status` and one error."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass(frozen=True)
class GraphQLParams:
    query: str | None
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None


def _typed(data: dict[str, Any], key: str, kind: type, what: str) -> Any:
    value = data.get(key)
    if value is not None and not isinstance(value, kind):
        raise HttpError(400, f"`{key}` must be {what} or null")
    return value


def from_mapping(data: Any) -> GraphQLParams:
    if not isinstance(data, dict):
        raise HttpError(400, "The request must be a JSON object with a `query`")
    return GraphQLParams(
        query=_typed(data, "query", str, "a string"),
        variables=_typed(data, "variables", dict, "an object"),
        operation_name=_typed(data, "operationName", str, "a string"),
        extensions=_typed(data, "extensions", dict, "an object"),
    )


def _json_param(params: Any, key: str) -> Any:
    text = params.get(key)
    if text is None or text == "":
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise HttpError(400, f"The `{key}` parameter is not valid JSON") from None


def from_query_string(params: Any) -> GraphQLParams:
    return from_mapping(
        {
            "query": params.get("query"),
            "operationName": params.get("operationName") or None,
            "variables": _json_param(params, "variables"),
            "extensions": _json_param(params, "extensions"),
        }
    )


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def decode_body(content_type: str | None, body: bytes) -> Any:
    """The parsed JSON body: an object, or a list when the client batches."""
    kind = media_type(content_type)
    if kind != "application/json":
        shown = kind or "none"
        raise HttpError(415, f"Send the request as Content-Type: application/json (got {shown})")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise HttpError(400, "The request body is not valid JSON") from None
