from __future__ import annotations

from enum import Enum

import strawberry

from models import REACTION_TYPES


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
