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
    """The position of one row in one order: its sort columns, then the id that breaks ties."""

    order: Order
    values: tuple[Any, ...]
    id: int


# The sort columns of each order, before the id. POPULAR is "view count descending, then newest".
_COLUMNS: dict[Order, tuple[peewee.Field, ...]] = {
    Order.POPULAR: (Video.view_count, Video.created_at),
    Order.NEWEST: (Video.created_at,),
    Order.TITLE: (Video.title,),
}
_DESCENDING = {Order.POPULAR: True, Order.NEWEST: True, Order.TITLE: False}


def sort_key(order: Order, video: Video) -> SortKey:
    return SortKey(order, tuple(getattr(video, c.name) for c in _COLUMNS[order]), video.id)


def _sign(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, b"cursor:" + payload, hashlib.sha256).digest()[:_SIG_BYTES]


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def category_scope(category_id: int) -> str:
    return f"category:{category_id}"


def catalogue_scope(category_slug: str | None, search: str | None, published: bool | None) -> str:
    return "catalogue:" + orjson.dumps([category_slug, search, published]).decode()


def encode_cursor(secret: bytes, key: SortKey, scope: str) -> str:
    """`scope` names the list (a category, or the catalogue with its filter): a cursor only
    continues the list that issued it."""
    payload = orjson.dumps([key.order.value, [_plain(v) for v in key.values], key.id, scope])
    return base64.urlsafe_b64encode(_sign(secret, payload) + payload).decode().rstrip("=")


def decode_cursor(secret: bytes, cursor: str, order: Order, scope: str) -> SortKey:
    """The sort key inside a cursor; BAD_USER_INPUT if it was not issued by us for this order."""
    invalid = BadUserInput("the cursor is invalid: pass an endCursor or cursor exactly as received")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raise invalid from None
    sig, payload = raw[:_SIG_BYTES], raw[_SIG_BYTES:]
    if not hmac.compare_digest(sig, _sign(secret, payload)):
        raise invalid
    kind, values, pk, issued_for = orjson.loads(payload)  # signed by us, so well formed
    if kind != order.value:
        raise BadUserInput(f"the cursor belongs to orderBy {kind}, not {order.value}")
    if issued_for != scope:
        raise BadUserInput("the cursor belongs to another list: page with the cursors this list returned")
    typed = tuple(
        dt.datetime.fromisoformat(v) if isinstance(c, peewee.DateTimeField) else v
        for c, v in zip(_COLUMNS[order], values, strict=True)
    )
    return SortKey(order, typed, pk)


def order_by(order: Order) -> tuple[peewee.Ordering, ...]:
    columns = (*_COLUMNS[order], Video.id)
    return tuple(c.desc() if _DESCENDING[order] else c.asc() for c in columns)


def after(key: SortKey) -> Any:
    """Rows strictly after `key` in its order.

    Written as `first <= v AND (first < v OR <the rest after>)` rather than a row comparison: the
    leading conjunct is a plain range on the first sort column, which MariaDB can seek to in the
    index, so a deep page reads about as many rows as the first one.
    """
    columns = (*_COLUMNS[key.order], Video.id)
    values = (*key.values, key.id)
    descending = _DESCENDING[key.order]

    def beyond(column: Any, value: Any) -> Any:
        return column < value if descending else column > value

    def rest(i: int) -> Any:
        if i == len(columns) - 1:
            return beyond(columns[i], values[i])
        return beyond(columns[i], values[i]) | ((columns[i] == values[i]) & rest(i + 1))

    first, value = columns[0], values[0]
    reachable = first <= value if descending else first >= value
    return reachable & rest(0)
