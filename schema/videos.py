from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from resolvers import videos as resolve
from resolvers.context import Context
from resolvers.curation import Fields
from resolvers.curation import videos as curate
from resolvers.pages import Page, VideoBundle
from resolvers.pagination import PageArgs
from schema.accounts import UserType
from schema.ids import global_id
from schema.inputs import given_fields
from schema.node import Node, parse_global_id
from schema.permissions import ADMIN_ONLY
from schema.reactions import ReactionSummary
from schema.selection import connection_needs, current, video_needs

if TYPE_CHECKING:
    from schema.categories import DeletePayload, VideoCategoryType
    from schema.progress import VideoProgressType


# GraphQL's Int is 32 bits; view_count is a BIGINT. A video past two billion plays shows the
# largest Int rather than failing every list it appears in.
MAX_INT = 2**31 - 1


@strawberry.enum
class VideoOrder(Enum):
    POPULAR = strawberry.enum_value(
        "POPULAR", description="Most viewed first (view count descending, then newest)."
    )
    NEWEST = strawberry.enum_value("NEWEST", description="Newest first (creation time descending).")
    TITLE = strawberry.enum_value("TITLE", description="Alphabetical by title.")


@strawberry.type(name="Video")
class VideoType(Node):
    title: str
    description: str | None
    category: Annotated[VideoCategoryType, strawberry.lazy("schema.categories")]
    video_url: str
    thumbnail_url: str | None
    caption_url: str | None
    duration_seconds: int
    view_count: int
    is_hero: bool
    published: bool
    uploaded_by: UserType
    created_at: dt.datetime
    updated_at: dt.datetime
    reactions: ReactionSummary
    viewer_progress: Annotated[VideoProgressType, strawberry.lazy("schema.progress")] | None = (
        strawberry.field(
            description="The caller's progress on this video; null when anonymous or never played."
        )
    )

    @classmethod
    def build(cls, bundle: VideoBundle, ctx: Context) -> VideoType:
        from schema.categories import VideoCategoryType
        from schema.progress import VideoProgressType

        row = bundle.row
        video = cls(
            id=strawberry.ID(global_id("Video", row.id)),
            title=row.title,
            description=row.description,
            category=VideoCategoryType.build(row.category, video_count=bundle.category_count),
            video_url=row.video_url,
            thumbnail_url=row.thumbnail_url,
            caption_url=row.caption_url,
            duration_seconds=row.duration_seconds,
            view_count=min(row.view_count, MAX_INT),
            is_hero=bool(row.is_hero),
            published=bool(row.published),
            uploaded_by=UserType.build(row.uploaded_by, ctx.viewer),
            created_at=row.created_at,
            updated_at=row.updated_at,
            reactions=ReactionSummary.build(bundle.counts, bundle.viewer_reaction),
            viewer_progress=None,
        )
        if bundle.progress is not None:
            video.viewer_progress = VideoProgressType.build(bundle.progress, video)
        return video


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class VideoEdge:
    cursor: str
    node: VideoType


@strawberry.type
class VideoConnection:
    edges: list[VideoEdge]
    page_info: PageInfo
    total_count: int

    @classmethod
    def build(cls, page: Page, ctx: Context) -> VideoConnection:
        cursors = page.cursors or [""] * len(page.bundles)
        return cls(
            edges=[
                VideoEdge(cursor=cursor, node=VideoType.build(bundle, ctx))
                for cursor, bundle in zip(cursors, page.bundles, strict=True)
            ],
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=page.has_previous,
                start_cursor=page.start_cursor,
                end_cursor=page.end_cursor,
            ),
            total_count=page.total_count or 0,
        )


@strawberry.input
class VideoFilter:
    category_slug: str | None = None
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive substring match on title or description."
    )
    published: bool | None = strawberry.field(
        default=None, description="false lists drafts; admins only (FORBIDDEN for others)."
    )


def page_args(
    first: int | None, after: str | None, order: VideoOrder | None, default: VideoOrder
) -> PageArgs:
    return PageArgs.of(first, after, (order or default).value)


@strawberry.type
class VideoQuery:
    @strawberry.field
    async def video(self, info: Info[Context, None], id: strawberry.ID) -> VideoType | None:
        _, pk = parse_global_id(id, "Video")
        bundle = await resolve.by_id(info.context, pk, video_needs(current(info)))
        return VideoType.build(bundle, info.context) if bundle else None

    @strawberry.field(
        description="The published hero video, if any (for admins too: this is what the home screen shows)."
    )
    async def hero_video(self, info: Info[Context, None]) -> VideoType | None:
        bundle = await resolve.hero(info.context, video_needs(current(info)))
        return VideoType.build(bundle, info.context) if bundle else None

    @strawberry.field
    async def videos(
        self,
        info: Info[Context, None],
        first: int | None = 20,
        after: str | None = None,
        filter: VideoFilter | None = None,
        order_by: VideoOrder | None = VideoOrder.NEWEST,
    ) -> VideoConnection:
        args = page_args(first, after, order_by, VideoOrder.NEWEST)
        flt = filter or VideoFilter()
        page = await resolve.list_videos(
            info.context,
            args,
            resolve.VideoFilter(flt.category_slug, flt.search, flt.published),
            connection_needs(current(info)),
        )
        return VideoConnection.build(page, info.context)


# --- curation (admin only) -----------------------------------------------------------------


@strawberry.input
class CreateVideoInput:
    # UNSET rather than None, as the contract prints no default; omitted, the column stays NULL.
    title: str
    description: str | None = strawberry.UNSET
    category_id: strawberry.ID
    video_url: str = strawberry.field(description="http(s) URL.")
    thumbnail_url: str | None = strawberry.UNSET
    caption_url: str | None = strawberry.UNSET
    duration_seconds: int
    published: bool | None = False
    is_hero: bool | None = strawberry.field(
        default=False, description="Setting true clears isHero on every other video."
    )


@strawberry.input
class UpdateVideoInput:
    # UNSET tells "not given" (keep) from an explicit null (clear, where the column allows it).
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    category_id: strawberry.ID | None = strawberry.UNSET
    video_url: str | None = strawberry.UNSET
    thumbnail_url: str | None = strawberry.UNSET
    caption_url: str | None = strawberry.UNSET
    duration_seconds: int | None = strawberry.UNSET
    published: bool | None = strawberry.UNSET
    is_hero: bool | None = strawberry.UNSET


def video_fields(input: CreateVideoInput | UpdateVideoInput) -> Fields:
    """The given fields, with categoryId turned into the category's primary key."""
    fields = given_fields(input)
    if fields.get("category_id") is not None:
        _, fields["category_id"] = parse_global_id(fields["category_id"], "VideoCategory")
    return fields


@strawberry.type
class Mutation:
    @strawberry.mutation(permission_classes=ADMIN_ONLY)
    async def create_video(self, info: Info[Context, None], input: CreateVideoInput) -> VideoType:
        bundle = await curate.create_video(info.context, video_fields(input), video_needs(current(info)))
        return VideoType.build(bundle, info.context)

    @strawberry.mutation(permission_classes=ADMIN_ONLY)
    async def update_video(
        self, info: Info[Context, None], id: strawberry.ID, input: UpdateVideoInput
    ) -> VideoType:
        _, pk = parse_global_id(id, "Video")
        bundle = await curate.update_video(info.context, pk, video_fields(input), video_needs(current(info)))
        return VideoType.build(bundle, info.context)

    @strawberry.mutation(
        permission_classes=ADMIN_ONLY, description="Also deletes the video's progress rows and reactions."
    )
    async def delete_video(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> Annotated[DeletePayload, strawberry.lazy("schema.categories")]:
        from schema.categories import DeletePayload

        _, pk = parse_global_id(id, "Video")
        await curate.delete_video(info.context, pk)
        return DeletePayload(deleted_id=strawberry.ID(global_id("Video", pk)))
