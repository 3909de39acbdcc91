"""Pages of videos: the data a connection is built from, and the batched page queries behind
VideoPageByCategoryLoader."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import peewee
from peewee import JOIN, fn

from models import User, Video, VideoCategory, VideoProgress
from models.database import current
from resolvers.accounts.viewer import Viewer
from resolvers.db import fetch
from resolvers.pagination import (
    Order,
    PageArgs,
    category_scope,
    decode_cursor,
    encode_cursor,
    order_by,
    sort_key,
)
from resolvers.pagination import after as after_key
from resolvers.visibility import is_admin, only_visible_videos

ReactionCounts = dict[str, int]


@dataclass(frozen=True)
class VideoNeeds:
    """What a selection asks of each video beyond its own columns (read from info.selected_fields)."""

    counts: bool = False
    viewer_reaction: bool = False
    progress: bool = False
    category_count: bool = False


@dataclass(frozen=True)
class ConnectionNeeds:
    node: VideoNeeds = VideoNeeds()
    total: bool = False
    cursors: bool = False


@dataclass
class VideoBundle:
    """A video with everything its selection needs, loaded for the whole list at once."""

    row: Video  # .category and .uploaded_by are joined in
    counts: ReactionCounts | None = None
    viewer_reaction: str | None = None
    progress: VideoProgress | None = None
    category_count: int | None = None


@dataclass
class Page:
    bundles: list[VideoBundle]
    cursors: list[str]
    has_next: bool
    has_previous: bool
    total_count: int | None
    end_cursor: str | None = None
    start_cursor: str | None = None


# peewee's names for the keyset indexes of migrations/003_videos.py, by (one category?, order).
_KEYSET_INDEXES = {
    (False, Order.POPULAR): "video_published_view_count_created_at",
    (False, Order.NEWEST): "video_published_created_at",
    (False, Order.TITLE): "video_published_title",
    (True, Order.POPULAR): "video_published_category_id_view_count_created_at",
    (True, Order.NEWEST): "video_published_category_id_created_at",
    (True, Order.TITLE): "video_published_category_id_title",
}


def keyset_index(order: Order, one_category: bool, published_fixed: bool) -> str | None:
    """The index a keyset page must walk, when the query pins `published` (its first column)."""
    return _KEYSET_INDEXES[one_category, order] if published_fixed else None


class _ForcedIndex(peewee.Node):
    """`videos AS t1 FORCE INDEX (...)`: peewee has no index hints."""

    def __init__(self, index: str) -> None:
        self.index = index

    def __sql__(self, ctx: Any) -> Any:
        ctx.sql(Video)
        return ctx.literal(" FORCE INDEX (").sql(peewee.Entity(self.index)).literal(")")


class _ForcedIndexSelect(peewee.ModelSelect):
    def _get_model_cursor_wrapper(self, cursor: Any) -> Any:
        # Hydrate the joins from Video, which the hint hides from peewee's walk of the FROM list.
        state: Any = self
        return peewee.ModelCursorWrapper(cursor, self.model, state._returning, [self.model], state._joins)


# What VideoCategoryType.build and UserType.build read of a video's category and uploader. A list
# reads them for every video: the other columns (the password hash among them) cost decoding
# time for nothing, and doubled the home screen's page statement (45 ms against 26 ms here).
JOINED_CATEGORY_COLUMNS = (
    VideoCategory.id,
    VideoCategory.name,
    VideoCategory.slug,
    VideoCategory.sort_order,
    VideoCategory.is_active,
)
JOINED_USER_COLUMNS = (User.id, User.display_name, User.role, User.email, User.created_at)


def base_query(keyset: str | None = None) -> Any:
    """Videos with their category and uploader joined: one statement yields all three.

    keyset, the index of a keyset page (see keyset_index). MariaDB otherwise picks a plain lookup
    on `published` over the range the cursor gives, or starts from video_categories, and then
    reads or sorts every visible video for each page. Forced, a deep page reads page-size rows.
    """
    forced = keyset is not None and isinstance(current(), peewee.MySQLDatabase)
    join = "STRAIGHT_JOIN" if forced else JOIN.INNER
    columns = [Video, *JOINED_CATEGORY_COLUMNS, *JOINED_USER_COLUMNS]
    query: Any
    if forced:
        query = _ForcedIndexSelect(Video, columns).from_(_ForcedIndex(keyset))  # type: ignore[arg-type]
    else:
        query = Video.select(*columns)
    return (
        query.join(VideoCategory, join, on=(Video.category == VideoCategory.id))
        .switch(Video)
        .join(User, join, on=(Video.uploaded_by == User.id))
    )


PageKey = tuple[int, PageArgs, "ConnectionNeeds"]  # (category id, page arguments, what is selected)
PageRows = tuple[list[Video], Page]  # the rows still to be enriched, and their page


def make_page(
    secret: bytes, scope: str, rows: list[Video], args: PageArgs, needs: ConnectionNeeds, total: int | None
) -> PageRows:
    """Trim the look-ahead row off and compute the cursors the selection asks for."""
    has_next = len(rows) > args.first
    rows = rows[: args.first]
    cursors = [encode_cursor(secret, sort_key(args.order, r), scope) for r in rows] if needs.cursors else []
    page = Page(
        bundles=[], cursors=cursors, has_next=has_next, has_previous=args.after is not None, total_count=total
    )
    if rows:
        page.start_cursor = (
            cursors[0] if cursors else encode_cursor(secret, sort_key(args.order, rows[0]), scope)
        )
        page.end_cursor = (
            cursors[-1] if cursors else encode_cursor(secret, sort_key(args.order, rows[-1]), scope)
        )
    return rows, page


async def _first_pages(
    db: Any, viewer: Viewer | None, category_ids: list[int], args: PageArgs
) -> dict[int, list[Video]]:
    """The first page of every category in ONE statement: ROW_NUMBER() per category."""
    rank = fn.ROW_NUMBER().over(partition_by=[Video.category], order_by=list(order_by(args.order)))
    ranked = only_visible_videos(
        Video.select(Video.id.alias("vid"), rank.alias("position"))
        .join(VideoCategory)
        .where(Video.category.in_(category_ids)),
        viewer,
    ).alias("ranked")
    query = (
        base_query()
        .join(ranked, on=(Video.id == ranked.c.vid))
        .where(ranked.c.position <= args.first + 1)
        .order_by(Video.category, ranked.c.position)
    )
    found: dict[int, list[Video]] = {i: [] for i in category_ids}
    for row in await fetch(db, query):
        found[row.category_id].append(row)
    return found


async def _later_page(
    db: Any, viewer: Viewer | None, secret: bytes, category_id: int, args: PageArgs
) -> list[Video]:
    """A page after a cursor: an index range scan from the cursor's sort key."""
    assert args.after is not None
    key = decode_cursor(secret, args.after, args.order, category_scope(category_id))
    index = keyset_index(args.order, one_category=True, published_fixed=not is_admin(viewer))
    query = only_visible_videos(base_query(index).where(Video.category == category_id), viewer)
    return list(
        await fetch(db, query.where(after_key(key)).order_by(*order_by(args.order)).limit(args.first + 1))
    )


async def category_pages(
    db: Any,
    viewer: Viewer | None,
    secret: bytes,
    count_many: Callable[[list[int]], Awaitable[list[int]]],
    keys: Sequence[PageKey],
) -> list[PageRows | BaseException]:
    """Pages for many categories at once: first pages that share arguments are one statement,
    totals are one GROUP BY, and a page after a cursor is one range scan each."""
    firsts: dict[PageArgs, list[int]] = defaultdict(list)
    for category_id, args, _ in keys:
        if args.after is None:
            firsts[args].append(category_id)
    later = [key for key in keys if key[1].after is not None]
    want_totals = sorted({key[0] for key in keys if key[2].total})

    async def later_rows(key: PageKey) -> list[Video] | BaseException:
        try:
            return await _later_page(db, viewer, secret, key[0], key[1])
        except Exception as exc:  # a bad cursor fails its own key, not the batch
            return exc

    first_rows, later_results, totals = await asyncio.gather(
        asyncio.gather(*(_first_pages(db, viewer, ids, args) for args, ids in firsts.items())),
        asyncio.gather(*(later_rows(key) for key in later)),
        count_many(want_totals) if want_totals else asyncio.sleep(0, result=[]),
    )
    rows_by_first = dict(zip(firsts, first_rows, strict=True))
    rows_by_later = dict(zip(later, later_results, strict=True))
    total_by_category = dict(zip(want_totals, totals, strict=True))
    out: list[PageRows | BaseException] = []
    for key in keys:
        category_id, args, needs = key
        rows = rows_by_first[args][category_id] if args.after is None else rows_by_later[key]
        if isinstance(rows, BaseException):
            out.append(rows)
            continue
        total = total_by_category.get(category_id) if needs.total else None
        out.append(make_page(secret, category_scope(category_id), rows, args, needs, total))
    return out


def fresh(page: Page) -> Page:
    """A copy for one caller: a loader's cached page may be reached twice in one request."""
    return dataclasses.replace(page, bundles=[])
