"""react and unreact: the caller's one reaction per video, set, replaced or removed in one statement."""

from __future__ import annotations

from typing import Any

import peewee

from models import VideoReaction, utcnow
from resolvers.context import Context
from resolvers.db import execute
from resolvers.errors import NotFound
from resolvers.lookup import visible_video
from resolvers.pages import VideoBundle, VideoNeeds
from resolvers.videos import video_after_write


def reaction_upsert(db: Any, user_id: int, video_pk: int, kind: str) -> peewee.Insert:
    """INSERT ... ON DUPLICATE KEY UPDATE (MySQL) / ON CONFLICT (user_id, video_id) DO UPDATE (SQLite).

    Reacting again with the same type changes nothing, updated_at included; a new type replaces
    the old one and moves updated_at. Never REPLACE: that would give the row a new id."""
    now = utcnow()
    # updated_at comes first: MySQL evaluates assignments left to right, each seeing the columns
    # already assigned, so the CASE must read reaction_type before it is overwritten.
    # (SQLite reads the old row in every assignment, whatever the order.)
    update = {
        VideoReaction.updated_at: peewee.Case(
            None, [(VideoReaction.reaction_type == kind, VideoReaction.updated_at)], now
        ),
        VideoReaction.reaction_type: kind,
    }
    insert = VideoReaction.insert(
        user=user_id, video=video_pk, reaction_type=kind, created_at=now, updated_at=now
    )
    if isinstance(db, peewee.MySQLDatabase):
        # MySQL takes no conflict target (peewee refuses one): any unique key triggers the update,
        # and besides the primary key, which we never set, (user_id, video_id) is the only one.
        return insert.on_conflict(update=update)
    return insert.on_conflict(conflict_target=[VideoReaction.user, VideoReaction.video], update=update)


async def react(ctx: Context, video_pk: int, kind: str, needs: VideoNeeds) -> VideoBundle:
    """`kind` is a stored value (REACTION_TYPES): the GraphQL enum admits nothing else."""
    viewer = ctx.viewer
    assert viewer is not None  # SIGNED_IN
    await visible_video(ctx, video_pk)
    try:
        await execute(ctx.db, reaction_upsert(ctx.db, viewer.id, video_pk, kind))
    except peewee.IntegrityError:  # the foreign key: deleted since visible_video saw it
        raise NotFound("no such video") from None
    return await video_after_write(ctx, video_pk, needs, reaction=kind)


async def unreact(ctx: Context, video_pk: int, needs: VideoNeeds) -> VideoBundle:
    viewer = ctx.viewer
    assert viewer is not None  # SIGNED_IN
    await visible_video(ctx, video_pk)
    delete = VideoReaction.delete().where(
        (VideoReaction.user == viewer.id) & (VideoReaction.video == video_pk)
    )
    await execute(ctx.db, delete)
    return await video_after_write(ctx, video_pk, needs, reaction=None)
