"""Reads through peewee's async API that hand the connection back as soon as they finish.

pwasyncio gives every asyncio task its own pooled connection and returns it only when the task
ends. A GraphQL request spreads over many tasks (one per top-level field, one per dataloader batch),
and a field's task lives until its whole subtree is resolved, so holding connections that long
would let a few concurrent screens exhaust the pool. Reads outside a transaction release at once.
"""

from __future__ import annotations

from typing import Any

import peewee


async def _release(db: Any) -> None:
    if not db.in_transaction():
        await db.aclose()


async def fetch(db: Any, query: peewee.Query) -> list[Any]:
    try:
        return list(await db.list(query))
    finally:
        await _release(db)


async def fetch_scalar(db: Any, query: peewee.Query) -> Any:
    try:
        return await db.scalar(query)
    finally:
        await _release(db)
