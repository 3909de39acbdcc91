"""The Node interface, with Relay global IDs encoded by strawberry.relay."""

from __future__ import annotations

import binascii

import strawberry
from strawberry.relay import from_base64

from resolvers.errors import BadUserInput


@strawberry.interface(
    name="Node",
    description="An object with a global ID; Query.node(id) fetches any of them again.",
)
class Node:
    # A plain attribute, filled when the object is built: no resolver call per object.
    id: strawberry.ID = strawberry.field(
        description="Opaque Relay global ID, unique across all types and stable: never build or parse it."
    )


def parse_global_id(value: str, expected: str | None = None) -> tuple[str, int]:
    """(type name, primary key) of a global ID; BAD_USER_INPUT if it is not one of ours."""
    try:
        type_name, raw_pk = from_base64(value)
        pk = int(raw_pk)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise BadUserInput(f"{value!r} is not a valid ID") from None
    if pk <= 0 or pk >= 2**63:
        raise BadUserInput(f"{value!r} is not a valid ID")
    if expected is not None and type_name != expected:
        raise BadUserInput(f"{value!r} is not the ID of a {expected}")
    return type_name, pk
