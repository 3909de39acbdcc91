"""createVideo, updateVideo, deleteVideo, and the one-hero rule."""

from __future__ import annotations

from typing import Any

import peewee

from models import Video, utcnow
from resolvers.context import Context
from resolvers.curation import Fields, is_foreign_key_violation, is_out_of_range
from resolvers.curation.validation import video_columns
from resolvers.db import execute, fetch, transaction
from resolvers.errors import NotFound
from resolvers.pages import VideoBundle, VideoNeeds
from resolvers.videos import video_after_write

# The hero lock: one row that exists whenever the videos table does, the migration history's
# record of the migration that created it (models/migrate.py keeps peewee's default table name).
# The contract's tables are fixed, so the lock borrows this row rather than adding one of its own.
HERO_LOCK_TABLE = "schema_migration"
HERO_LOCK_ROW = "003_videos"
_HERO_LOCK_SQL = f"SELECT id FROM `{HERO_LOCK_TABLE}` WHERE name = %s FOR UPDATE"


async def take_hero_lock(db: Any) -> None:
    """Serialise every write that sets or clears is_hero: the first statement of its transaction.

    Without it two admins making different videos the hero each lock their own new hero row and
    then wait for the other's in clear_other_heroes(): MariaDB breaks the cycle with a deadlock
    (1213), and under load a request could exhaust its retries. Taken first, the lock makes the
    second switch wait for the first to commit, and nothing else on its way holds a row it needs.
    It is a record lock on a unique key, so nothing but hero switches waits for it (applying a
    new migration inserts other rows). SQLite needs none: its writers queue for the database lock,
    which these transactions take with their first statement, a write."""
    if not isinstance(db, peewee.SqliteDatabase):
        await db.aexecute_sql(_HERO_LOCK_SQL, (HERO_LOCK_ROW,))


def clear_other_heroes(keep: int) -> peewee.ModelUpdate:
    """Run in the same transaction as the write that makes `keep` the hero, after it, with the
    hero lock held (take_hero_lock)."""
    return Video.update(is_hero=False).where((Video.is_hero == True) & (Video.id != keep))  # noqa: E712


def _no_such_category() -> NotFound:
    # The foreign key is the existence check: no look-up that a concurrent delete could outdate.
    return NotFound("no such category: categoryId must be the ID of an existing VideoCategory")


def _is_no_such_category(exc: peewee.DatabaseError) -> bool:
    # A key beyond the column's type (MySQL's INT) names no category either.
    return is_foreign_key_violation(exc) or is_out_of_range(exc, "category_id")


async def _answer(ctx: Context, pk: int, needs: VideoNeeds, created: bool = False) -> VideoBundle:
    if created:
        # A video created a moment ago has no reactions and no progress: nothing to read for them.
        return await video_after_write(ctx, pk, needs, progress=None, reaction=None, counts={})
    return await video_after_write(ctx, pk, needs)


async def create_video(ctx: Context, fields: Fields, needs: VideoNeeds) -> VideoBundle:
    columns = video_columns(fields)
    viewer = ctx.viewer
    assert viewer is not None  # ADMIN_ONLY
    now = utcnow()
    row: dict[str, Any] = {**columns, "uploaded_by": viewer.id, "created_at": now, "updated_at": now}

    async def work() -> int:
        if columns["is_hero"]:
            await take_hero_lock(ctx.db)
        pk = int(await ctx.db.aexecute(Video.insert(**row)))
        if columns["is_hero"]:
            await ctx.db.aexecute(clear_other_heroes(pk))
        return pk

    try:
        pk = await transaction(ctx.db, work)
    except (peewee.IntegrityError, peewee.DataError) as exc:
        if _is_no_such_category(exc):
            raise _no_such_category() from None
        raise
    return await _answer(ctx, pk, needs, created=True)


async def update_video(ctx: Context, pk: int, fields: Fields, needs: VideoNeeds) -> VideoBundle:
    columns = video_columns(fields)

    async def work() -> None:
        # Write first, then read: on SQLite a transaction that reads before it writes may find
        # the database changed under it and fail instead of waiting. (The hero lock is a read,
        # but on MySQL only.) Clearing the flag takes the lock too: its index entry can wait on a
        # concurrent switch's gap lock while holding the row that switch needs next.
        if "is_hero" in columns:
            await take_hero_lock(ctx.db)
        if columns:
            await ctx.db.aexecute(Video.update(**columns).where(Video.id == pk))
        if not await fetch(ctx.db, Video.select(Video.id).where(Video.id == pk)):
            raise NotFound("no such video")  # rolls back: nothing else changed either
        if columns.get("is_hero"):
            await ctx.db.aexecute(clear_other_heroes(pk))

    try:
        await transaction(ctx.db, work)
    except (peewee.IntegrityError, peewee.DataError) as exc:
        if _is_no_such_category(exc):
            raise _no_such_category() from None
        raise
    return await _answer(ctx, pk, needs)


async def delete_video(ctx: Context, pk: int) -> None:
    """Its progress rows and reactions go with it: their foreign keys are ON DELETE CASCADE."""
    delete = Video.delete().where(Video.id == pk)
    deleted = await execute(ctx.db, delete)
    if not deleted:
        raise NotFound("no such video")
    ctx.forget_loaded()
