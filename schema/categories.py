from __future__ import annotations

from typing import Annotated

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
from schema.videos import AFTER, FIRST, ORDER_BY, VideoConnection, VideoOrder, page_args


@strawberry.type(
    name="VideoCategory",
    description="A row of the home screen and a category page. Anonymous callers and members see only "
    "active categories (inactive ones are null or absent everywhere); admins see all.",
)
class VideoCategoryType(Node):
    name: str = strawberry.field(description="Display name, 1..100 characters.")
    slug: str = strawberry.field(
        description="Unique URL name, [a-z0-9]+(-[a-z0-9]+)*, at most 100 characters: look the category "
        "up with Query.category(slug)."
    )
    sort_order: int = strawberry.field(
        description="Position among categories, ascending (ties by name); any 32-bit integer."
    )
    is_active: bool = strawberry.field(
        description="false hides the category, and every video in it, from everyone but admins."
    )
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

    @strawberry.field(
        description="The videos of this category the caller may see, one page at a time (POPULAR first by "
        "default). BAD_USER_INPUT when first is out of range or after is not a cursor of this list."
    )
    async def videos(
        self,
        info: Info[Context, None],
        first: Annotated[int | None, FIRST] = 20,
        after: Annotated[str | None, AFTER] = None,
        order_by: Annotated[VideoOrder | None, ORDER_BY] = VideoOrder.POPULAR,
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
        self,
        info: Info[Context, None],
        include_inactive: Annotated[
            bool,
            strawberry.argument(
                description="true also lists inactive categories, for admins only; for anyone else it "
                "changes nothing (no error)."
            ),
        ] = False,
    ) -> list[VideoCategoryType]:
        want_count, selections = category_plan(current(info))
        bundles = await resolve.list_categories(info.context, include_inactive, want_count, selections)
        return [VideoCategoryType.from_bundle(b) for b in bundles]

    @strawberry.field(
        description="The category page: one category by its slug. Null when there is none, or when it "
        "is inactive and the caller is not an admin."
    )
    async def category(
        self,
        info: Info[Context, None],
        slug: Annotated[str, strawberry.argument(description="The category's slug, e.g. \"nature\".")],
    ) -> VideoCategoryType | None:
        want_count, selections = category_plan(current(info))
        bundle = await resolve.category_by_slug(info.context, slug, want_count, selections)
        return VideoCategoryType.from_bundle(bundle) if bundle else None


# --- curation (admin only) -----------------------------------------------------------------


@strawberry.input(description="A new category (Mutation.createCategory).")
class CreateCategoryInput:
    name: str = strawberry.field(
        description="Display name; trimmed, 1..100 characters, something visible among them and no "
        "control or invisible formatting character (README: Input rules)."
    )
    # UNSET rather than None: the contract prints no default; omitted or null, the slug is derived.
    slug: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Derived from name when omitted; [a-z0-9]+(-[a-z0-9]+)*, unique.",
    )
    sort_order: int | None = strawberry.field(
        default=0,
        description="Position among categories, ascending; a 32-bit integer. null is BAD_USER_INPUT.",
    )
    is_active: bool | None = strawberry.field(
        default=True,
        description="false hides the category and its videos from non-admins. null is BAD_USER_INPUT.",
    )


@strawberry.input(
    description="Changes to a category (Mutation.updateCategory): only the fields given change, checked as "
    "in CreateCategoryInput; none of them may be null."
)
class UpdateCategoryInput:
    # UNSET tells "not given" (keep) from an explicit null.
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="New display name; trimmed, 1..100 characters."
    )
    slug: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="New slug, [a-z0-9]+(-[a-z0-9]+)*, unique (CONFLICT when taken). Renaming never "
        "changes the slug by itself.",
    )
    sort_order: int | None = strawberry.field(
        default=strawberry.UNSET, description="New position among categories; a 32-bit integer."
    )
    is_active: bool | None = strawberry.field(
        default=strawberry.UNSET, description="false hides the category and its videos from non-admins."
    )


@strawberry.type(description="The answer of a delete mutation.")
class DeletePayload:
    deleted_id: strawberry.ID = strawberry.field(description="The global ID of the row that was deleted.")


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=ADMIN_ONLY,
        description="Admin only, like every mutation below. "
        "UNAUTHENTICATED when anonymous, FORBIDDEN for members; CONFLICT when the slug is taken; "
        "BAD_USER_INPUT on an invalid field.",
    )
    async def create_category(
        self,
        info: Info[Context, None],
        input: Annotated[CreateCategoryInput, strawberry.argument(description="The new category.")],
    ) -> VideoCategoryType:
        row = await curate.create_category(info.context, given_fields(input))
        return VideoCategoryType.build(row)

    @strawberry.mutation(
        permission_classes=ADMIN_ONLY,
        description="Admin only (UNAUTHENTICATED when anonymous, FORBIDDEN for members). Changes the fields "
        "given; NOT_FOUND when there is no such category, CONFLICT when the new slug is taken.",
    )
    async def update_category(
        self,
        info: Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The VideoCategory's global ID.")],
        input: Annotated[UpdateCategoryInput, strawberry.argument(description="The fields to change.")],
    ) -> VideoCategoryType:
        _, pk = parse_global_id(id, "VideoCategory")
        row = await curate.update_category(info.context, pk, given_fields(input))
        return VideoCategoryType.build(row)

    @strawberry.mutation(
        permission_classes=ADMIN_ONLY,
        description="CONFLICT while the category still holds videos. "
        "Admin only (UNAUTHENTICATED when anonymous, FORBIDDEN for members); NOT_FOUND when there is no "
        "such category.",
    )
    async def delete_category(
        self,
        info: Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The VideoCategory's global ID.")],
    ) -> DeletePayload:
        _, pk = parse_global_id(id, "VideoCategory")
        await curate.delete_category(info.context, pk)
        return DeletePayload(deleted_id=strawberry.ID(global_id("VideoCategory", pk)))
