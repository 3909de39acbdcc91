"""recordView: one more play, counted by the database itself."""

from __future__ import annotations

import peewee

from models import Video
from resolvers.context import Context
from resolvers.db import execute
from resolvers.errors import NotFound
from resolvers.lookup import visible_video
from resolvers.pages import VideoBundle, VideoNeeds
from resolvers.videos import video_after_write


def view_increment(video_pk: int) -> peewee.ModelUpdate:
    """UPDATE videos SET view_count = view_count + 1 WHERE id = ?: concurrent plays all count.

    updated_at is kept as it is: a play does not change the video, and the hero is the most
    recently updated published video, which must not flip with every play."""
    increment = Video.update(view_count=Video.view_count + 1, updated_at=Video.updated_at)
    return increment.where(Video.id == video_pk)


async def record_view(ctx: Context, video_pk: int, needs: VideoNeeds) -> VideoBundle:
    await visible_video(ctx, video_pk)
    changed = await execute(ctx.db, view_increment(video_pk))
    if not changed:  # deleted between the lookup and the update
        raise NotFound("no such video")
    return await video_after_write(ctx, video_pk, needs)
