from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from models import VideoProgress as ProgressRow
from resolvers import progress as resolve
from resolvers.context import Context
from resolvers.pages import VideoNeeds
from schema.ids import global_id
from schema.node import Node, parse_global_id
from schema.permissions import SIGNED_IN
from schema.selection import children, current, video_needs

if TYPE_CHECKING:
    from schema.videos import VideoType


@strawberry.type(
    name="VideoProgress",
    description="How far one user got in one video: one row per user and video, written by saveProgress. "
    "Only its owner (and admins) can read it.",
)
class VideoProgressType(Node):
    video: Annotated[VideoType, strawberry.lazy("schema.videos")] = strawberry.field(
        description="The video this progress is on."
    )
    watched_seconds: int = strawberry.field(
        description="Furthest point reached, in seconds; never decreases."
    )
    duration_seconds: int = strawberry.field(description="The video's duration when progress was last saved.")
    last_position: int = strawberry.field(description="Where playback should resume, in seconds.")
    completed: bool = strawberry.field(
        description="Set once watchedSeconds reaches 90% of the duration; stays set."
    )
    percent_complete: float = strawberry.field(description="watchedSeconds / durationSeconds, 0..1.")
    updated_at: dt.datetime = strawberry.field(
        description="When progress was last saved (UTC); continueWatching lists the most recent first."
    )

    @classmethod
    def build(cls, row: ProgressRow, video: VideoType) -> VideoProgressType:
        if row.duration_seconds > 0:
            percent = min(1.0, max(0.0, row.watched_seconds / row.duration_seconds))
        else:
            percent = 1.0 if row.completed else 0.0
        return cls(
            id=strawberry.ID(global_id("VideoProgress", row.id)),
            video=video,
            watched_seconds=row.watched_seconds,
            duration_seconds=row.duration_seconds,
            last_position=row.last_position,
            completed=bool(row.completed),
            percent_complete=percent,
            updated_at=row.updated_at,
        )

    @classmethod
    def from_bundle(cls, bundle: resolve.ProgressBundle, ctx: Context) -> VideoProgressType:
        from schema.videos import VideoType

        video = VideoType.build(bundle.video, ctx)
        if video.viewer_progress is not None and video.viewer_progress.id == global_id(
            "VideoProgress", bundle.row.id
        ):
            return video.viewer_progress
        return cls.build(bundle.row, video)


def progress_video_needs(info: Info) -> VideoNeeds:
    return video_needs(children(current(info)).get("video", []))


@strawberry.type
class ProgressQuery:
    @strawberry.field(
        description="The caller's unfinished videos (lastPosition > 0, not completed), most recently "
        "watched first; empty when anonymous. first is 0..50."
    )
    async def continue_watching(
        self,
        info: Info[Context, None],
        first: Annotated[
            int | None,
            strawberry.argument(description="How many to return: 0..50 (BAD_USER_INPUT otherwise)."),
        ] = 10,
    ) -> list[VideoProgressType]:
        bundles = await resolve.continue_watching(info.context, first, progress_video_needs(info))
        return [VideoProgressType.from_bundle(b, info.context) for b in bundles]


@strawberry.input(description="Where the caller is in a video (Mutation.saveProgress).")
class SaveProgressInput:
    video_id: strawberry.ID = strawberry.field(
        description="The Video's global ID; NOT_FOUND when the caller may not see it."
    )
    position_seconds: int = strawberry.field(
        description="Current playhead in seconds; clamped to the video's duration. "
        "Negative is BAD_USER_INPUT."
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=SIGNED_IN,
        description="Signed-in only. One row per user and video, upserted atomically: its id\n"
        "never changes across saves. The answer reflects the write, nested fields\n"
        "included (video { viewerProgress } is this same row).\n"
        "UNAUTHENTICATED when anonymous; NOT_FOUND on a video the caller may not see.",
    )
    async def save_progress(
        self,
        info: Info[Context, None],
        input: Annotated[SaveProgressInput, strawberry.argument(description="The video and the playhead.")],
    ) -> VideoProgressType:
        _, pk = parse_global_id(input.video_id, "Video")
        needs = progress_video_needs(info)
        bundle = await resolve.save_progress(info.context, pk, input.position_seconds, needs)
        return VideoProgressType.from_bundle(bundle, info.context)

    @strawberry.mutation(
        permission_classes=SIGNED_IN,
        description="Signed-in only. Forgets the caller's progress on the video (it leaves "
        "continueWatching); the answer is the video, whose viewerProgress is then null. "
        "UNAUTHENTICATED when anonymous; NOT_FOUND on a video the caller may not see; "
        "a video never played is no error.",
    )
    async def clear_progress(
        self,
        info: Info[Context, None],
        video_id: Annotated[strawberry.ID, strawberry.argument(description="The Video's global ID.")],
    ) -> Annotated[VideoType, strawberry.lazy("schema.videos")]:
        from schema.videos import VideoType

        _, pk = parse_global_id(video_id, "Video")
        bundle = await resolve.clear_progress(info.context, pk, video_needs(current(info)))
        return VideoType.build(bundle, info.context)
