from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated, cast

import strawberry
from strawberry.types import Info

from models import REACTION_TYPES
from resolvers import reactions as resolve
from resolvers.context import Context
from schema.node import parse_global_id
from schema.permissions import SIGNED_IN
from schema.selection import current, video_needs

if TYPE_CHECKING:
    from schema.videos import VideoType


@strawberry.enum(description="The reactions a signed-in viewer may leave on a video, one at a time.")
class ReactionType(Enum):
    # Values are the stored strings (see Role for why resolvers return raw strings).
    LIKE = strawberry.enum_value("like", description="Thumbs up.")
    LOVE = strawberry.enum_value("love", description="A heart.")
    HAHA = strawberry.enum_value("haha", description="Laughter.")
    WOW = strawberry.enum_value("wow", description="Surprise.")
    SAD = strawberry.enum_value("sad", description="Sadness.")
    ANGRY = strawberry.enum_value("angry", description="Anger.")


assert tuple(t.value for t in ReactionType) == REACTION_TYPES


@strawberry.type(description="How many viewers left one type of reaction on a video.")
class ReactionCount:
    type: ReactionType = strawberry.field(description="The reaction.")
    count: int = strawberry.field(description="How many viewers left it; 0 or more.")


@strawberry.type(
    description="The reactions on a video. Counts are public (and cacheable for 30 s); viewerReaction "
    "is the caller's own."
)
class ReactionSummary:
    total: int = strawberry.field(description="All reactions on the video: the sum of counts.")
    counts: list[ReactionCount] = strawberry.field(
        description="One entry per ReactionType, in the enum's order, zeros included."
    )
    viewer_reaction: ReactionType | None = strawberry.field(
        description="The caller's own reaction; null when anonymous or none."
    )

    @classmethod
    def build(cls, counts: dict[str, int] | None, viewer_reaction: str | None) -> ReactionSummary:
        counts = counts or {}
        return cls(
            total=sum(counts.values()),
            counts=[ReactionCount(type=kind, count=counts.get(kind, 0)) for kind in REACTION_TYPES],  # type: ignore[arg-type]
            viewer_reaction=viewer_reaction,  # type: ignore[arg-type]
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=SIGNED_IN,
        description="Signed-in only. Sets or replaces the caller's one reaction; idempotent. "
        "The answer reflects the write. "
        "UNAUTHENTICATED when anonymous; NOT_FOUND on a video the caller may not see.",
    )
    async def react(
        self,
        info: Info[Context, None],
        video_id: Annotated[strawberry.ID, strawberry.argument(description="The Video's global ID.")],
        type: Annotated[ReactionType, strawberry.argument(description="The reaction to leave.")],
    ) -> Annotated[VideoType, strawberry.lazy("schema.videos")]:
        from schema.videos import VideoType

        _, pk = parse_global_id(video_id, "Video")
        # The stored string: strawberry unwraps enum_value() when it builds the enum (mypy sees the wrapper).
        kind = cast(str, type.value)
        bundle = await resolve.react(info.context, pk, kind, video_needs(current(info)))
        return VideoType.build(bundle, info.context)

    @strawberry.mutation(
        permission_classes=SIGNED_IN,
        description="Signed-in only. Removes the caller's reaction if any; idempotent. "
        "UNAUTHENTICATED when anonymous; NOT_FOUND on a video the caller may not see.",
    )
    async def unreact(
        self,
        info: Info[Context, None],
        video_id: Annotated[strawberry.ID, strawberry.argument(description="The Video's global ID.")],
    ) -> Annotated[VideoType, strawberry.lazy("schema.videos")]:
        from schema.videos import VideoType

        _, pk = parse_global_id(video_id, "Video")
        bundle = await resolve.unreact(info.context, pk, video_needs(current(info)))
        return VideoType.build(bundle, info.context)
