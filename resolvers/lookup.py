"""Finding the target of a write: NOT_FOUND for what the caller may not see, as for what does not exist."""

from __future__ import annotations

from models import Video, VideoCategory
from resolvers.context import Context
from resolvers.db import fetch
from resolvers.errors import NotFound
from resolvers.visibility import only_visible_videos


async def visible_video(ctx: Context, pk: int) -> Video:
    """The video (with its category joined) if the viewer may see it; NOT_FOUND otherwise.

    Reads the database directly, not through a dataloader, so it never sees a cached row."""
    query = only_visible_videos(
        Video.select(Video, VideoCategory).join(VideoCategory).where(Video.id == pk), ctx.viewer
    )
    rows = await fetch(ctx.db, query)
    if not rows:
        raise NotFound("no such video")
    return rows[0]
