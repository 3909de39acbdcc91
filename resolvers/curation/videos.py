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


def clear_other_heroes(keep: int) -> peewee.ModelUpdate:
    """Run in the same transaction as the write that makes `keep` the hero, after it.

    Whichever of two racing admins commits last clears the other's hero: its UPDATE must lock the
    other's (uncommitted) hero row and waits for it, or the two deadlock and one is retried."""
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
        # the database changed under it and fail instead of waiting.
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
