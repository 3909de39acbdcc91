"""Query.node: any Node by its global ID, with the same visibility and ownership as everywhere."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers import categories, progress, videos
from resolvers.context import Context
from schema.accounts import UserType
from schema.categories import VideoCategoryType
from schema.node import Node, parse_global_id
from schema.progress import VideoProgressType, progress_video_needs
from schema.selection import category_plan, current, video_needs
from schema.videos import VideoType


async def _user(info: Info[Context, None], pk: int) -> UserType | None:
    ctx = info.context
    with ctx.gate.loading():
        row = await ctx.loaders.user_by_id.load(pk)
    return UserType.build(row, ctx.viewer) if row is not None else None


async def _category(info: Info[Context, None], pk: int) -> VideoCategoryType | None:
    want_count, selections = category_plan(current(info))
    bundle = await categories.category_by_id(info.context, pk, want_count, selections)
    return VideoCategoryType.from_bundle(bundle) if bundle else None


async def _video(info: Info[Context, None], pk: int) -> VideoType | None:
    bundle = await videos.by_id(info.context, pk, video_needs(current(info)))
    return VideoType.build(bundle, info.context) if bundle else None


async def _progress(info: Info[Context, None], pk: int) -> VideoProgressType | None:
    bundle = await progress.progress_by_id(info.context, pk, progress_video_needs(info))
    return VideoProgressType.from_bundle(bundle, info.context) if bundle else None


_RESOLVERS = {
    "User": _user,
    "VideoCategory": _category,
    "Video": _video,
    "VideoProgress": _progress,
}


@strawberry.type
class NodeQuery:
    @strawberry.field(
        description="Any User, Video, VideoCategory or VideoProgress by its global ID, with the same "
        "visibility as everywhere: null when nothing has that ID or the caller may not see it (a "
        "VideoProgress only its owner and admins). BAD_USER_INPUT when id is not a global ID."
    )
    async def node(
        self,
        info: Info[Context, None],
        id: Annotated[
            strawberry.ID, strawberry.argument(description="A global ID, as any Node's id gave it.")
        ],
    ) -> Node | None:
        type_name, pk = parse_global_id(id)
        resolver = _RESOLVERS.get(type_name)
        if resolver is None:
            return None
        return await resolver(info, pk)
