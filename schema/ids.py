"""Relay global IDs: base64("TypeName:pk"), the same encoding strawberry.relay uses."""

from __future__ import annotations

from strawberry.relay import to_base64


def global_id(type_name: str, pk: int | str) -> str:
    return to_base64(type_name, pk)
