from __future__ import annotations

import strawberry
from strawberry.types import Info

from models import VideoCategory as CategoryRow
from resolvers import categories as resolve
from resolvers.context import Context
from resolvers.curation import categories as curate
from resolvers.pages import Page
from resolvers.pagination import PageArgs
from resolvers.videos import category_page
from schema.ids import global_id
from schema.inputs import given_fields
from schema.node import Node, parse_global_id
from schema.permissions import ADMIN_ONLY
from schema.selection import category_plan, connection_needs, current
from schema.videos import VideoConnection, VideoOrder, page_args


@strawberry.type(name="VideoCategory")
class VideoCategoryType(Node):
    name: str
    slug: str
    sort_order: int
    is_active: bool
    _row: strawberry.Private[CategoryRow]
    _video_count: strawberry.Private[int | None]
    _pages: strawberry.Private[dict[PageArgs, Page]]

    @classmethod
    def build(
        cls, row: CategoryRow, video_count: int | None = None, pages: dict[PageArgs, Page] | None = None
    ) -> VideoCategoryType:
        return cls(
            id=strawberry.ID(global_id("VideoCategory", row.id)),
            name=row.name,
            slug=row.slug,
            sort_order=row.sort_order,
            is_active=bool(row.is_active),
            _row=row,
            _video_count=video_count,
            _pages=pages or {},
        )

    @classmethod
    def from_bundle(cls, bundle: resolve.CategoryBundle) -> VideoCategoryType:
        return cls.build(bundle.row, bundle.video_count, bundle.pages)

    @strawberry.field(description="Number of videos in the category that the caller may see.")
    async def video_count(self, info: Info[Context, None]) -> int:
        if self._video_count is None:
            self._video_count = await resolve.video_count(info.context, self._row.id)
        return self._video_count

    @strawberry.field
    async def videos(
        self,
        info: Info[Context, None],
        first: int | None = 20,
        after: str | None = None,
        order_by: VideoOrder | None = VideoOrder.POPULAR,
    ) -> VideoConnection:
        args = page_args(first, after, order_by, VideoOrder.POPULAR)
        page = self._pages.get(args)
        if page is None:  # not loaded with the list: a later page, or a category reached on its own
            page = await category_page(info.context, self._row, args, connection_needs(current(info)))
        return VideoConnection.build(page, info.context)


@strawberry.type
class CategoryQuery:
    @strawberry.field(
        description="Ordered by sortOrder, then name. Inactive ones are listed only when "
        "includeInactive is true and the caller is an admin."
    )
    async def categories(
        self, info: Info[Context, None], include_inactive: bool = False
    ) -> list[VideoCategoryType]:
        want_count, selections = category_plan(current(info))
        bundles = await resolve.list_categories(info.context, include_inactive, want_count, selections)
        return [VideoCategoryType.from_bundle(b) for b in bundles]

    @strawberry.field
    async def category(self, info: Info[Context, None], slug: str) -> VideoCategoryType | None:
        want_count, selections = category_plan(current(info))
        bundle = await resolve.category_by_slug(info.context, slug, want_count, selections)
        return VideoCategoryType.from_bundle(bundle) if bundle else None


# --- curation (admin only) -----------------------------------------------------------------


@strawberry.input
class CreateCategoryInput:
    name: str
    # UNSET rather than None: the contract prints no default; omitted or null, the slug is derived.
    slug: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Derived from name when omitted; [a-z0-9]+(-[a-z0-9]+)*, unique.",
    )
    sort_order: int | None = 0
    is_active: bool | None = True


@strawberry.input
class UpdateCategoryInput:
    # UNSET tells "not given" (keep) from an explicit null.
    name: str | None = strawberry.UNSET
    slug: str | None = strawberry.UNSET
    sort_order: int | None = strawberry.UNSET
    is_active: bool | None = strawberry.UNSET


@strawberry.type
class DeletePayload:
    deleted_id: strawberry.ID


@strawberry.type
class Mutation:
    @strawberry.mutation(permission_classes=ADMIN_ONLY, description="Admin only, like every mutation below.")
    async def create_category(
        self, info: Info[Context, None], input: CreateCategoryInput
    ) -> VideoCategoryType:
        row = await curate.create_category(info.context, given_fields(input))
        return VideoCategoryType.build(row)

    @strawberry.mutation(permission_classes=ADMIN_ONLY)
    async def update_category(
        self, info: Info[Context, None], id: strawberry.ID, input: UpdateCategoryInput
    ) -> VideoCategoryType:
        _, pk = parse_global_id(id, "VideoCategory")
        row = await curate.update_category(info.context, pk, given_fields(input))
        return VideoCategoryType.build(row)

    @strawberry.mutation(
        permission_classes=ADMIN_ONLY, description="CONFLICT while the category still holds videos."
    )
    async def delete_category(self, info: Info[Context, None], id: strawberry.ID) -> DeletePayload:
        _, pk = parse_global_id(id, "VideoCategory")
        await curate.delete_category(info.context, pk)
        return DeletePayload(deleted_id=strawberry.ID(global_id("VideoCategory", pk)))
