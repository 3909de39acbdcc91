from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated

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


@strawberry.enum
class ReactionType(Enum):
    # Values are the stored strings (see Role for why resolvers return raw strings).
    LIKE = "like"
    LOVE = "love"
    HAHA = "haha"
    WOW = "wow"
    SAD = "sad"
    ANGRY = "angry"


assert tuple(t.value for t in ReactionType) == REACTION_TYPES


@strawberry.type
class ReactionCount:
    type: ReactionType
    count: int


@strawberry.type
class ReactionSummary:
    total: int
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
        "The answer reflects the write.",
    )
    async def react(
        self, info: Info[Context, None], video_id: strawberry.ID, type: ReactionType
    ) -> Annotated[VideoType, strawberry.lazy("schema.videos")]:
        from schema.videos import VideoType

        _, pk = parse_global_id(video_id, "Video")
        bundle = await resolve.react(info.context, pk, type.value, video_needs(current(info)))
        return VideoType.build(bundle, info.context)

    @strawberry.mutation(
        permission_classes=SIGNED_IN,
        description="Signed-in only. Removes the caller's reaction if any; idempotent.",
    )
    async def unreact(
        self, info: Info[Context, None], video_id: strawberry.ID
    ) -> Annotated[VideoType, strawberry.lazy("schema.videos")]:
        from schema.videos import VideoType

        _, pk = parse_global_id(video_id, "Video")
        bundle = await resolve.unreact(info.context, pk, video_needs(current(info)))
        return VideoType.build(bundle, info.context)
