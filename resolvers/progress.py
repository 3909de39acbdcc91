"""Viewing progress: continueWatching and progress nodes (reads); saveProgress and clearProgress (writes)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import peewee
from peewee import fn

from models import User, Video, VideoCategory, VideoProgress, utcnow
from resolvers.context import Context
from resolvers.db import execute, fetch
from resolvers.errors import BadUserInput, NotFound
from resolvers.lookup import visible_video
from resolvers.pages import VideoBundle, VideoNeeds
from resolvers.videos import enrich, video_after_write
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
    own = ctx.viewer is not None and all(row.user_id == ctx.viewer.id for row in rows)
    # video { viewerProgress } is this very row, so the owner's need no statement for it. (Not
    # primed into the loader: other lists then cost the same whatever continueWatching holds.)
    videos = await enrich(
        ctx, [row.video for row in rows], replace(needs, progress=needs.progress and not own)
    )
    for row, video in zip(rows, videos, strict=True):
        if own:
            video.progress = row
    return [ProgressBundle(row, video) for row, video in zip(rows, videos, strict=True)]


async def continue_watching(ctx: Context, first: int | None, needs: VideoNeeds) -> list[ProgressBundle]:
    """Unfinished videos (started, not completed), most recently watched first."""
    if first is None:
        first = 10
    if not 0 <= first <= MAX_CONTINUE_WATCHING:
        raise BadUserInput(f"first must be between 0 and {MAX_CONTINUE_WATCHING}, got {first}")
    if ctx.viewer is None or first == 0:
        return []
    query = (
        only_visible_videos(
            _query().where(  # type: ignore[attr-defined]
                (VideoProgress.user == ctx.viewer.id)
                & (VideoProgress.completed == False)  # noqa: E712
                & (VideoProgress.last_position > 0)
            ),
            ctx.viewer,
        )
        .order_by(VideoProgress.updated_at.desc(), VideoProgress.id.desc())
        .limit(first)
    )
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


# --- writes: saveProgress, clearProgress ------------------------------------------------------
#
# Each write is ONE statement, so two requests racing on the same (user, video) cannot lose an
# update or trip the unique key: the database merges them. What it answers is read back after.


def completion_threshold(duration: int) -> int:
    """The fewest whole seconds that reach 90% of `duration` (ceil(0.9 * duration))."""
    return -(-duration * 9 // 10)


def _greatest(db: Any, *values: Any) -> Any:
    # SQLite's MAX() with two or more arguments is the scalar greatest, like MySQL's GREATEST().
    return fn.GREATEST(*values) if isinstance(db, peewee.MySQLDatabase) else fn.MAX(*values)


def progress_upsert(db: Any, user_id: int, video: Video, position: int) -> peewee.Insert:
    """INSERT ... ON DUPLICATE KEY UPDATE (MySQL) / ON CONFLICT (user_id, video_id) DO UPDATE (SQLite).

    Never REPLACE: that deletes and re-inserts, which would change the row's id."""
    duration = video.duration_seconds
    clamped = min(position, duration)
    threshold = completion_threshold(duration)
    now = utcnow()
    watched = _greatest(db, VideoProgress.watched_seconds, clamped)
    # MySQL evaluates these assignments left to right, each seeing the columns already assigned;
    # SQLite sees the old row in all of them. `completed` reads watched_seconds, and
    # GREATEST(GREATEST(old, new), new) == GREATEST(old, new), so both orders agree.
    update = {
        VideoProgress.completed: VideoProgress.completed | (watched >= threshold),
        VideoProgress.watched_seconds: watched,
        VideoProgress.last_position: clamped,
        VideoProgress.duration_seconds: duration,
        VideoProgress.updated_at: now,
    }
    insert = VideoProgress.insert(
        user=user_id,
        video=video.id,
        watched_seconds=clamped,
        last_position=clamped,
        duration_seconds=duration,
        completed=clamped >= threshold,
        created_at=now,
        updated_at=now,
    )
    if isinstance(db, peewee.MySQLDatabase):
        # MySQL takes no conflict target (peewee refuses one): any unique key triggers the update,
        # and besides the primary key, which we never set, (user_id, video_id) is the only one.
        return insert.on_conflict(update=update)
    return insert.on_conflict(conflict_target=[VideoProgress.user, VideoProgress.video], update=update)


async def save_progress(ctx: Context, video_pk: int, position: int, needs: VideoNeeds) -> ProgressBundle:
    if position < 0:
        raise BadUserInput(f"positionSeconds must be 0 or more, got {position}")
    viewer = ctx.viewer
    assert viewer is not None  # SIGNED_IN
    video = await visible_video(ctx, video_pk)
    try:
        await execute(ctx.db, progress_upsert(ctx.db, viewer.id, video, position))
    except peewee.IntegrityError:  # the foreign key: deleted since visible_video saw it
        raise NotFound("no such video") from None
    ctx.forget_loaded()
    query = _query().where(  # type: ignore[attr-defined]
        (VideoProgress.user == viewer.id) & (VideoProgress.video == video_pk)
    )
    with ctx.gate.loading():
        rows = await fetch(ctx.db, query)
    if not rows:  # the video was deleted between the write and this read
        raise NotFound("no such video")
    [bundle] = await _bundles(ctx, rows, needs)
    return bundle


async def clear_progress(ctx: Context, video_pk: int, needs: VideoNeeds) -> VideoBundle:
    viewer = ctx.viewer
    assert viewer is not None  # SIGNED_IN
    await visible_video(ctx, video_pk)
    delete = VideoProgress.delete().where(
        (VideoProgress.user == viewer.id) & (VideoProgress.video == video_pk)
    )
    await execute(ctx.db, delete)
    return await video_after_write(ctx, video_pk, needs, progress=None)
