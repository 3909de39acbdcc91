"""Reads through peewee's async API that hand the connection back as soon as they finish.

pwasyncio gives every asyncio task its own pooled connection and returns it only when the task
ends. A GraphQL request spreads over many tasks (one per top-level field, one per dataloader batch),
and a field's task lives until its whole subtree is resolved, so holding connections that long
would let a few concurrent screens exhaust the pool. Reads outside a transaction release at once.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import peewee

from models.database import lost_connection

log = logging.getLogger("videolib.database")


async def _release(db: Any) -> None:
    if not db.in_transaction():
        await db.aclose()


async def fetch(db: Any, query: peewee.Query) -> list[Any]:
    try:
        return list(await db.list(query))
    finally:
        await _release(db)


async def fetch_rows(db: Any, query: peewee.Query) -> list[tuple[Any, ...]]:
    """The driver's row tuples of a query whose columns need no conversion (ids, counts, plain
    strings): peewee's cursor wrapper costs about 4 µs a row, and a screen's reaction counts are
    3,000 rows."""
    sql, params = query.sql()
    try:
        cursor = await db.aexecute_sql(sql, params)
        return list(cursor.fetchall())
    finally:
        await _release(db)


async def fetch_scalar(db: Any, query: peewee.Query) -> Any:
    try:
        return await db.scalar(query)
    finally:
        await _release(db)


# --- writes --------------------------------------------------------------------------------

T = TypeVar("T")

# MySQL/MariaDB: deadlock found (1213), lock wait timeout exceeded (1205). A deadlock rolls the
# transaction back; a lock wait timeout only the statement, but the exception leaves atomic(),
# which rolls back the rest. Either way nothing of the attempt remains, so running it again is safe.
RETRYABLE_MYSQL_ERRORS = frozenset({1213, 1205})
ATTEMPTS = 4


def _retryable(exc: BaseException) -> bool:
    return bool(exc.args) and exc.args[0] in RETRYABLE_MYSQL_ERRORS


async def retrying(work: Callable[[], Awaitable[T]]) -> T:
    """Run `work` again, a few times with jittered backoff, when MySQL gives up on a lock."""
    for attempt in range(ATTEMPTS):
        try:
            return await work()
        except peewee.OperationalError as exc:
            if not _retryable(exc) or attempt == ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.005 * 2**attempt * (1 + random.random()))
    raise AssertionError("unreachable")


async def execute(db: Any, query: peewee.Query) -> Any:
    """One write statement outside a transaction, retried on deadlock, its connection released
    at once (a request that held it while building its answer could starve the pool)."""

    async def attempt() -> Any:
        try:
            return await db.aexecute(query)
        finally:
            await _release(db)

    return await retrying(attempt)


async def transaction(db: Any, work: Callable[[], Awaitable[T]]) -> T:
    """All of `work` or none of it, retried on deadlock. `work` runs in this task, so every
    statement it awaits uses the transaction's connection, which is released after the commit.

    A connection lost before COMMIT was sent (killed, timed out while idle in the pool) took the
    uncommitted work with it, so the whole transaction runs once more on a fresh connection. One
    lost during COMMIT is not retried: the commit may have happened, and a second run could apply
    the work twice. (A single write outside a transaction, execute(), is never retried for the
    same reason: a statement whose answer was lost may have been applied.)"""
    committing = False

    async def attempt() -> T:
        nonlocal committing
        committing = False
        try:
            async with db.atomic():
                result = await work()
                committing = True  # leaving the block sends COMMIT
            return result
        finally:
            await _release(db)

    # Nested in an outer transaction, a lost connection took the outer work too: only its owner
    # can start again.
    outermost = not db.in_transaction()
    try:
        return await retrying(attempt)
    except (peewee.OperationalError, peewee.InterfaceError) as exc:
        if committing or not outermost or not lost_connection(exc):
            raise
        log.warning("lost the database connection (%s) before COMMIT; running the transaction again", exc)
    return await retrying(attempt)
