"""Reading viewing progress: continueWatching and progress nodes."""

from __future__ import annotations

from dataclasses import dataclass

from models import User, Video, VideoCategory, VideoProgress
from resolvers.context import Context
from resolvers.db import fetch
from resolvers.errors import BadUserInput
from resolvers.videos import VideoBundle, VideoNeeds, enrich
from resolvers.visibility import is_admin, only_visible_videos

MAX_CONTINUE_WATCHING = 50


@dataclass
class ProgressBundle:
    row: VideoProgress
    video: VideoBundle


def _query() -> object:
    return (
        VideoProgress.select(VideoProgress, Video, VideoCategory, User)
        .join(Video)
        .join(VideoCategory)
        .switch(Video)
        .join(User, on=(Video.uploaded_by == User.id))
    )


async def _bundles(ctx: Context, rows: list[VideoProgress], needs: VideoNeeds) -> list[ProgressBundle]:
    for row in rows:
        # video { viewerProgress } is this very row: no statement for it.
        if ctx.viewer is not None and row.user_id == ctx.viewer.id:
            ctx.loaders.viewer_progress_by_video.prime(row.video_id, row)
    videos = await enrich(ctx, [row.video for row in rows], needs)
    return [ProgressBundle(row, video) for row, video in zip(rows, videos, strict=True)]


async def continue_watching(ctx: Context, first: int | None, needs: VideoNeeds) -> list[ProgressBundle]:
    """Unfinished videos (started, not completed), most recently watched first."""
    if first is None:
        first = 10
    if not 0 <= first <= MAX_CONTINUE_WATCHING:
        raise BadUserInput(f"first must be between 0 and {MAX_CONTINUE_WATCHING}, got {first}")
    if ctx.viewer is None or first == 0:
        return []
    query = only_visible_videos(
        _query().where(  # type: ignore[attr-defined]
            (VideoProgress.user == ctx.viewer.id)
            & (VideoProgress.completed == False)  # noqa: E712
            & (VideoProgress.last_position > 0)
        ),
        ctx.viewer,
    ).order_by(VideoProgress.updated_at.desc(), VideoProgress.id.desc()).limit(first)
    with ctx.gate.loading():
        rows = await fetch(ctx.db, query)
    return await _bundles(ctx, rows, needs)


async def progress_by_id(ctx: Context, pk: int, needs: VideoNeeds) -> ProgressBundle | None:
    """A progress row, for its owner (and admins), on a video they may see."""
    if ctx.viewer is None:
        return None
    query = only_visible_videos(_query().where(VideoProgress.id == pk), ctx.viewer)  # type: ignore[attr-defined]
    if not is_admin(ctx.viewer):
        query = query.where(VideoProgress.user == ctx.viewer.id)
    with ctx.gate.loading():
        rows = await fetch(ctx.db, query)
    bundles = await _bundles(ctx, rows, needs)
    return bundles[0] if bundles else None
