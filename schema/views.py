"""Counting plays (recordView)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from resolvers import views as resolve
from resolvers.context import Context
from schema.node import parse_global_id
from schema.selection import current, video_needs

if TYPE_CHECKING:
    from schema.videos import VideoType


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Anyone. Adds exactly one to viewCount, atomically. "
        "Call it once per play; NOT_FOUND on a video the caller may not see."
    )
    async def record_view(
        self,
        info: Info[Context, None],
        video_id: Annotated[strawberry.ID, strawberry.argument(description="The Video's global ID.")],
    ) -> Annotated[VideoType, strawberry.lazy("schema.videos")]:
        from schema.videos import VideoType

        _, pk = parse_global_id(video_id, "Video")
        bundle = await resolve.record_view(info.context, pk, video_needs(current(info)))
        return VideoType.build(bundle, info.context)
