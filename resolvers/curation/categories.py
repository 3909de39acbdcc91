"""createCategory, updateCategory, deleteCategory."""

from __future__ import annotations

import peewee

from models import VideoCategory, utcnow
from resolvers.context import Context
from resolvers.curation import Fields, is_duplicate, is_foreign_key_violation
from resolvers.curation.validation import category_columns
from resolvers.db import execute, fetch, transaction
from resolvers.errors import Conflict, NotFound


def _taken(slug: str | None) -> Conflict:
    return Conflict(f"the slug {slug!r} is taken by another category: choose another slug")


async def create_category(ctx: Context, fields: Fields) -> VideoCategory:
    columns = category_columns(fields, creating=True)
    now = utcnow()
    insert = VideoCategory.insert(**columns, created_at=now, updated_at=now)
    try:
        # No look-up first: the unique index decides, so two admins racing for a slug cannot both win.
        pk = await execute(ctx.db, insert)
    except peewee.IntegrityError as exc:
        if is_duplicate(exc):
            raise _taken(columns["slug"]) from None
        raise
    ctx.forget_loaded()
    return VideoCategory(id=pk, **columns, created_at=now, updated_at=now)


async def update_category(ctx: Context, pk: int, fields: Fields) -> VideoCategory:
    columns = category_columns(fields, creating=False)

    async def work() -> VideoCategory:
        # Write first, then read: on SQLite a transaction that reads before it writes may find
        # the database changed under it and fail instead of waiting.
        if columns:
            await ctx.db.aexecute(VideoCategory.update(**columns).where(VideoCategory.id == pk))
        rows = await fetch(ctx.db, VideoCategory.select().where(VideoCategory.id == pk))
        if not rows:
            raise NotFound("no such category")
        return rows[0]

    try:
        row = await transaction(ctx.db, work)
    except peewee.IntegrityError as exc:
        if is_duplicate(exc):
            raise _taken(columns.get("slug")) from None
        raise
    ctx.forget_loaded()
    return row


async def delete_category(ctx: Context, pk: int) -> None:
    delete = VideoCategory.delete().where(VideoCategory.id == pk)
    try:
        # The foreign key (ON DELETE RESTRICT) refuses while videos point here; nothing is deleted.
        deleted = await execute(ctx.db, delete)
    except peewee.IntegrityError as exc:
        if is_foreign_key_violation(exc):
            raise Conflict(
                "the category still holds videos: move them to another category or delete them first"
            ) from None
        raise
    if not deleted:
        raise NotFound("no such category")
    ctx.forget_loaded()
