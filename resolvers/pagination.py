"""Keyset pagination: opaque signed cursors, and the ORDER BY / WHERE for each VideoOrder.

A cursor holds the sort key of the last row seen, so the next page is an index range scan that
starts where the last one stopped: page 1,000 costs what page 1 costs.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from enum import Enum
from typing import Any

import orjson
import peewee

from models import Video
from resolvers.errors import BadUserInput

MAX_PAGE = 100
DEFAULT_PAGE = 20
_SIG_BYTES = 12


class Order(Enum):
    POPULAR = "POPULAR"
    NEWEST = "NEWEST"
    TITLE = "TITLE"


@dataclass(frozen=True)
class PageArgs:
    first: int
    after: str | None
    order: Order

    @classmethod
    def of(cls, first: Any, after: str | None, order: Any, limit: int = MAX_PAGE) -> PageArgs:
        if first is None:
            first = DEFAULT_PAGE
        if not isinstance(first, int) or isinstance(first, bool) or not 0 <= first <= limit:
            raise BadUserInput(f"first must be between 0 and {limit}, got {first}")
        return cls(first, after, Order(getattr(order, "value", order)))


@dataclass(frozen=True)
class SortKey:
    """The position of one row in one order."""

    order: Order
    value: Any  # view_count, created_at or title
    id: int


def sort_key(order: Order, video: Video) -> SortKey:
    if order is Order.POPULAR:
        return SortKey(order, video.view_count, video.id)
    if order is Order.NEWEST:
        return SortKey(order, video.created_at, video.id)
    return SortKey(order, video.title, video.id)


def _sign(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, b"cursor:" + payload, hashlib.sha256).digest()[:_SIG_BYTES]


def encode_cursor(secret: bytes, key: SortKey) -> str:
    value = key.value.isoformat() if isinstance(key.value, dt.datetime) else key.value
    payload = orjson.dumps([key.order.value, value, key.id])
    return base64.urlsafe_b64encode(_sign(secret, payload) + payload).decode().rstrip("=")


def decode_cursor(secret: bytes, cursor: str, order: Order) -> SortKey:
    """The sort key inside a cursor; BAD_USER_INPUT if it was not issued by us for this order."""
    invalid = BadUserInput("the cursor is invalid: pass an endCursor or cursor exactly as received")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raise invalid from None
    sig, payload = raw[:_SIG_BYTES], raw[_SIG_BYTES:]
    if not hmac.compare_digest(sig, _sign(secret, payload)):
        raise invalid
    kind, value, pk = orjson.loads(payload)
    if kind != order.value:
        raise BadUserInput(f"the cursor belongs to orderBy {kind}, not {order.value}")
    if order is Order.NEWEST:
        value = dt.datetime.fromisoformat(value)
    return SortKey(order, value, pk)


def order_by(order: Order) -> tuple[peewee.Ordering, ...]:
    if order is Order.POPULAR:
        return (Video.view_count.desc(), Video.id.desc())
    if order is Order.NEWEST:
        return (Video.created_at.desc(), Video.id.desc())
    return (Video.title.asc(), Video.id.asc())


def after(key: SortKey) -> peewee.Expression:
    """Rows strictly after `key` in its order, written so the index range scan can be used."""
    column: Any = {Order.POPULAR: Video.view_count, Order.NEWEST: Video.created_at}.get(key.order)
    if column is not None:  # descending orders
        return (column < key.value) | ((column == key.value) & (Video.id < key.id))
    return (Video.title > key.value) | ((Video.title == key.value) & (Video.id > key.id))
