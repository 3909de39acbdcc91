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


# Arguments shared by every video connection (Query.videos and VideoCategory.videos).
FIRST = strawberry.argument(
    description="Page size: 0..100 (BAD_USER_INPUT otherwise). 0 returns no edges, only totalCount and "
    "pageInfo."
)
AFTER = strawberry.argument(
    description="Continue after this cursor: the pageInfo.endCursor (or an edge's cursor) that this same "
    "list, in the same orderBy, returned. Omit or null for the first page. A cursor that was altered or "
    "comes from another list or order is BAD_USER_INPUT."
)
ORDER_BY = strawberry.argument(
    description="How the list is sorted; ties are broken by id, so pages never overlap."
)


@strawberry.enum(description="The sort order of a list of videos.")
class VideoOrder(Enum):
    POPULAR = strawberry.enum_value(
        "POPULAR", description="Most viewed first (view count descending, then newest)."
    )
    NEWEST = strawberry.enum_value("NEWEST", description="Newest first (creation time descending).")
    TITLE = strawberry.enum_value("TITLE", description="Alphabetical by title.")


@strawberry.type(
    name="Video",
    description="A video of the catalogue. Anonymous callers and members see only published videos in "
    "active categories, on every path; any other is null or absent for them, and acting on it is "
    "NOT_FOUND. Admins see every video.",
)
class VideoType(Node):
    title: str = strawberry.field(description="1..200 characters.")
    description: str | None = strawberry.field(
        description="Free text, at most 5000 characters; null when none."
    )
    category: Annotated[VideoCategoryType, strawberry.lazy("schema.categories")] = strawberry.field(
        description="The category the video belongs to; every video has exactly one."
    )
    video_url: str = strawberry.field(description="Absolute http(s) URL of the media to play.")
    thumbnail_url: str | None = strawberry.field(
        description="Absolute http(s) URL of the poster image; null when none."
    )
    caption_url: str | None = strawberry.field(
        description="Absolute http(s) URL of the captions file; null when none."
    )
    duration_seconds: int = strawberry.field(description="Length in seconds, 0..604800 (a week).")
    view_count: int = strawberry.field(
        description="Plays counted by recordView; shown as at most 2147483647 (the largest Int)."
    )
    is_hero: bool = strawberry.field(
        description="Whether this is the hero of the home screen (Query.heroVideo); at most one video is."
    )
    published: bool = strawberry.field(
        description="false for a draft, which only admins can see (heroVideo never shows one)."
    )
    uploaded_by: UserType = strawberry.field(description="The account that created the video (an admin).")
    created_at: dt.datetime = strawberry.field(description="When the video was created (UTC).")
    updated_at: dt.datetime = strawberry.field(
        description="When the video was last changed by an admin (UTC); plays and reactions leave it."
    )
    reactions: ReactionSummary = strawberry.field(
        description="Reaction counts, and the caller's own reaction (viewerReaction)."
    )
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


@strawberry.type(description="Where a page sits in its list (Relay cursor connections).")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Whether more videos follow this page: if so, ask again with after: endCursor."
    )
    has_previous_page: bool = strawberry.field(
        description="Whether this page was asked for with a cursor (after)."
    )
    start_cursor: str | None = strawberry.field(
        description="The cursor of the page's first edge; null when empty."
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of the page's last edge, to pass as after for the next page; null when empty."
    )


@strawberry.type(description="One video of a page, with its position in the list.")
class VideoEdge:
    cursor: str = strawberry.field(
        description="Opaque and signed: pass it as after to continue this list (same orderBy) after this "
        "video."
    )
    node: VideoType = strawberry.field(description="The video.")


@strawberry.type(description="One page of a list of videos, paged with first/after.")
class VideoConnection:
    edges: list[VideoEdge] = strawberry.field(description="At most first videos, in the list's order.")
    page_info: PageInfo = strawberry.field(description="Cursors and whether more pages follow.")
    total_count: int = strawberry.field(
        description="Videos in the whole list (every page) that the caller may see."
    )

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


@strawberry.input(description="Narrows Query.videos; the conditions given all apply.")
class VideoFilter:
    category_slug: str | None = strawberry.field(
        default=None,
        description="Only videos of the category with this slug (none when there is no such category).",
    )
    search: str | None = strawberry.field(
        default=None,
        description="Case-insensitive substring match on title or description. "
        "% and _ match themselves; blank matches everything; more than 200 characters is BAD_USER_INPUT.",
    )
    published: bool | None = strawberry.field(
        default=None,
        description="false lists drafts; admins only (FORBIDDEN for others). "
        "true lists only published videos; omitted, admins get both.",
    )


def page_args(
    first: int | None, after: str | None, order: VideoOrder | None, default: VideoOrder
) -> PageArgs:
    return PageArgs.of(first, after, (order or default).value)


@strawberry.type
class VideoQuery:
    @strawberry.field(
        description="The player screen: one video by its global ID. Null when there is none or the caller "
        "may not see it; BAD_USER_INPUT when id is not a Video's ID."
    )
    async def video(
        self,
        info: Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The Video's global ID.")],
    ) -> VideoType | None:
        _, pk = parse_global_id(id, "Video")
        bundle = await resolve.by_id(info.context, pk, video_needs(current(info)))
        return VideoType.build(bundle, info.context) if bundle else None

    @strawberry.field(
        description="The published hero video, if any (for admins too: this is what the home screen shows)."
    )
    async def hero_video(self, info: Info[Context, None]) -> VideoType | None:
        bundle = await resolve.hero(info.context, video_needs(current(info)))
        return VideoType.build(bundle, info.context) if bundle else None

    @strawberry.field(
        description="The whole catalogue the caller may see, filtered and paged (NEWEST first by default). "
        "BAD_USER_INPUT when first is out of range or after is not a cursor of this list."
    )
    async def videos(
        self,
        info: Info[Context, None],
        first: Annotated[int | None, FIRST] = 20,
        after: Annotated[str | None, AFTER] = None,
        filter: Annotated[
            VideoFilter | None,
            strawberry.argument(description="Conditions the videos must meet; omit for all."),
        ] = None,
        order_by: Annotated[VideoOrder | None, ORDER_BY] = VideoOrder.NEWEST,
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


@strawberry.input(description="A new video (Mutation.createVideo). Invalid fields are BAD_USER_INPUT.")
class CreateVideoInput:
    # UNSET rather than None, as the contract prints no default; omitted, the column stays NULL.
    title: str = strawberry.field(
        description="Trimmed, 1..200 characters, something visible among them and no control or "
        "invisible formatting character (README: Input rules)."
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="At most 5000 characters; tabs and line breaks are kept, any other control or "
        "invisible formatting character is BAD_USER_INPUT. Omitted or null for none.",
    )
    category_id: strawberry.ID = strawberry.field(
        description="The VideoCategory's global ID; NOT_FOUND when there is no such category."
    )
    video_url: str = strawberry.field(
        description="Absolute http(s) URL of the media, with a host, at most 2048 characters, written as "
        "sent: ASCII only, with every character RFC 3986 does not allow raw (spaces, quotes, <, >, "
        "backslash, ...) percent-encoded, and no user:password@."
    )
    thumbnail_url: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Absolute http(s) URL of the poster image, checked as videoUrl.",
    )
    caption_url: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Absolute http(s) URL of the captions file, checked as videoUrl.",
    )
    duration_seconds: int = strawberry.field(description="Length in seconds, 0..604800 (a week).")
    published: bool | None = strawberry.field(
        default=False, description="true shows the video to everyone; false (the default) keeps it a draft."
    )
    is_hero: bool | None = strawberry.field(
        default=False, description="Setting true clears isHero on every other video."
    )


@strawberry.input(
    description="Changes to a video (Mutation.updateVideo): only the fields given change, checked as in "
    "CreateVideoInput. null clears description, thumbnailUrl and captionUrl; for any other field it is "
    "BAD_USER_INPUT."
)
class UpdateVideoInput:
    # UNSET tells "not given" (keep) from an explicit null (clear, where the column allows it).
    title: str | None = strawberry.field(
        default=strawberry.UNSET, description="New title; trimmed, 1..200 characters."
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="New description, at most 5000 characters; null clears it."
    )
    category_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="Moves the video to the VideoCategory with this global ID; NOT_FOUND when there is none.",
    )
    video_url: str | None = strawberry.field(
        default=strawberry.UNSET, description="New http(s) URL of the media."
    )
    thumbnail_url: str | None = strawberry.field(
        default=strawberry.UNSET, description="New http(s) URL of the poster image; null clears it."
    )
    caption_url: str | None = strawberry.field(
        default=strawberry.UNSET, description="New http(s) URL of the captions file; null clears it."
    )
    duration_seconds: int | None = strawberry.field(
        default=strawberry.UNSET, description="New length in seconds, 0..604800."
    )
    published: bool | None = strawberry.field(
        default=strawberry.UNSET, description="true publishes the video; false turns it back into a draft."
    )
    is_hero: bool | None = strawberry.field(
        default=strawberry.UNSET, description="true makes it the hero and clears isHero on every other video."
    )


def video_fields(input: CreateVideoInput | UpdateVideoInput) -> Fields:
    """The given fields, with categoryId turned into the category's primary key."""
    fields = given_fields(input)
    if fields.get("category_id") is not None:
        _, fields["category_id"] = parse_global_id(fields["category_id"], "VideoCategory")
    return fields


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=ADMIN_ONLY,
        description="Admin only (UNAUTHENTICATED when anonymous, FORBIDDEN for members). The caller becomes "
        "uploadedBy; BAD_USER_INPUT on an invalid field.",
    )
    async def create_video(
        self,
        info: Info[Context, None],
        input: Annotated[CreateVideoInput, strawberry.argument(description="The new video.")],
    ) -> VideoType:
        bundle = await curate.create_video(info.context, video_fields(input), video_needs(current(info)))
        return VideoType.build(bundle, info.context)

    @strawberry.mutation(
        permission_classes=ADMIN_ONLY,
        description="Admin only (UNAUTHENTICATED when anonymous, FORBIDDEN for members). Changes the fields "
        "given; NOT_FOUND when there is no such video.",
    )
    async def update_video(
        self,
        info: Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The Video's global ID.")],
        input: Annotated[UpdateVideoInput, strawberry.argument(description="The fields to change.")],
    ) -> VideoType:
        _, pk = parse_global_id(id, "Video")
        bundle = await curate.update_video(info.context, pk, video_fields(input), video_needs(current(info)))
        return VideoType.build(bundle, info.context)

    @strawberry.mutation(
        permission_classes=ADMIN_ONLY,
        description="Also deletes the video's progress rows and reactions. "
        "Admin only (UNAUTHENTICATED when anonymous, FORBIDDEN for members); NOT_FOUND when there is no "
        "such video.",
    )
    async def delete_video(
        self,
        info: Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The Video's global ID.")],
    ) -> Annotated[DeletePayload, strawberry.lazy("schema.categories")]:
        from schema.categories import DeletePayload

        _, pk = parse_global_id(id, "Video")
        await curate.delete_video(info.context, pk)
        return DeletePayload(deleted_id=strawberry.ID(global_id("Video", pk)))
