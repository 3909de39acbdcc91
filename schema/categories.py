from __future__ import annotations

import strawberry

from resolvers.categories import list_visible_categories


@strawberry.type(name="VideoCategory")
class VideoCategoryType:
    name: str
    slug: str
    sort_order: int
    is_active: bool


@strawberry.type
class CategoryQuery:
    @strawberry.field(description="Ordered by sortOrder, then name.")
    async def categories(self) -> list[VideoCategoryType]:
        rows = await list_visible_categories()
        return [
            VideoCategoryType(name=c.name, slug=c.slug, sort_order=c.sort_order, is_active=c.is_active)
            for c in rows
        ]
