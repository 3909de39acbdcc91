"""Loading videos for whole lists at once: base queries, keyset pages, and the enrichment round."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import peewee
from peewee import fn

from models import Video, VideoCategory, VideoProgress
from models.database import UNICODE_LOWER
from resolvers.context import Context
from resolvers.db import fetch, fetch_scalar
from resolvers.errors import BadUserInput, Forbidden, NotFound
from resolvers.pages import (
    ConnectionNeeds,
    Page,
    VideoBundle,
    VideoNeeds,
    base_query,
    fresh,
    keyset_index,
    make_page,
)
from resolvers.pagination import PageArgs, catalogue_scope, decode_cursor, order_by
from resolvers.pagination import after as after_key
from resolvers.visibility import is_admin, only_visible_videos

MAX_SEARCH_LENGTH = 200


@dataclass(frozen=True)
class VideoFilter:
    category_slug: str | None = None
    search: str | None = None
    published: bool | None = None


async def enrich(ctx: Context, rows: list[Video], needs: VideoNeeds) -> list[VideoBundle]:
    """Attach reaction counts, the viewer's reaction and progress to every row.

    Waits until no base query of the request is in flight, so that every list on the screen asks
    the dataloaders in the same tick: one statement per relation for the whole screen.
    """
    bundles = [VideoBundle(row) for row in rows]
    if not rows or needs == VideoNeeds():
        return bundles
    await ctx.gate.quiet()
    loaders = ctx.loaders
    ids = tuple(row.id for row in rows)
    wanted: list[tuple[str, Any]] = []
    if needs.counts:
        wanted.append(("counts", loaders.reaction_counts_by_videos.load(ids)))
    if needs.viewer_reaction:
        wanted.append(("viewer_reaction", loaders.viewer_reaction_by_videos.load(ids)))
    if needs.progress:
        wanted.append(("progress", loaders.viewer_progress_by_videos.load(ids)))
    if needs.category_count:
        category_ids = [row.category_id for row in rows]
        wanted.append(("category_count", loaders.video_count_by_category.load_many(category_ids)))
    results = await asyncio.gather(*(awaitable for _, awaitable in wanted))
    for (name, _), values in zip(wanted, results, strict=True):
        for bundle, value in zip(bundles, values, strict=True):
            setattr(bundle, name, value)
    return bundles


async def hero(ctx: Context, needs: VideoNeeds) -> VideoBundle | None:
    """The published hero, for admins too (it is what the home screen shows)."""
    query = base_query().where((Video.is_hero == True) & (Video.published == True))  # noqa: E712
    if not is_admin(ctx.viewer):
        query = query.where(VideoCategory.is_active == True)  # noqa: E712
    with ctx.gate.loading():
        rows = await fetch(ctx.db, query.order_by(Video.updated_at.desc()).limit(1))
    bundles = await enrich(ctx, rows, needs)
    return bundles[0] if bundles else None


async def by_id(ctx: Context, pk: int, needs: VideoNeeds) -> VideoBundle | None:
    with ctx.gate.loading():
        row = await ctx.loaders.video_by_id.load(pk)
    bundles = await enrich(ctx, [row] if row is not None else [], needs)
    return bundles[0] if bundles else None


def _like(term: str) -> str:
    # '!' escapes LIKE's wildcards the same way on SQLite and MySQL.
    escaped = term.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%{escaped.lower()}%"


def _contains(db: Any, column: peewee.Field, pattern: str) -> Any:
    lower = fn.LOWER if isinstance(db, peewee.MySQLDatabase) else getattr(fn, UNICODE_LOWER)
    return peewee.NodeList((lower(column), peewee.SQL("LIKE"), pattern, peewee.SQL("ESCAPE '!'")))


def _filtered(ctx: Context, query: Any, flt: VideoFilter) -> Any:
    if flt.published is False and not is_admin(ctx.viewer):
        raise Forbidden("only admins may list unpublished videos (filter.published: false)")
    query = only_visible_videos(query, ctx.viewer)
    if flt.published is not None:
        query = query.where(Video.published == flt.published)
    if flt.category_slug is not None:
        # By id, not by the joined slug: the (published, category_id, ...) indexes then give the order.
        slug = VideoCategory.select(VideoCategory.id).where(VideoCategory.slug == flt.category_slug)
        query = query.where(Video.category == slug)
    if flt.search is not None and flt.search.strip():
        if len(flt.search) > MAX_SEARCH_LENGTH:
            raise BadUserInput(f"search must be at most {MAX_SEARCH_LENGTH} characters")
        if "\x00" in flt.search:
            # SQLite's LIKE stops at a NUL (matching everything), MySQL's does not: refuse it.
            raise BadUserInput("search must not contain NUL characters")
        pattern = _like(flt.search.strip())
        query = query.where(
            _contains(ctx.db, Video.title, pattern) | _contains(ctx.db, Video.description, pattern)
        )
    return query


async def list_videos(ctx: Context, args: PageArgs, flt: VideoFilter, needs: ConnectionNeeds) -> Page:
    """Query.videos: the catalogue, filtered, in keyset pages."""
    index = keyset_index(
        args.order,
        one_category=flt.category_slug is not None,
        published_fixed=flt.published is not None or not is_admin(ctx.viewer),
    )
    scope = catalogue_scope(flt.category_slug, flt.search, flt.published)
    query = _filtered(ctx, base_query(index), flt).order_by(*order_by(args.order)).limit(args.first + 1)
    if args.after is not None:
        query = query.where(after_key(decode_cursor(ctx.settings.secret_key, args.after, args.order, scope)))
    with ctx.gate.loading():
        if needs.total:
            counted = _filtered(ctx, Video.select(fn.COUNT(Video.id)).join(VideoCategory), flt)
            rows, total = await asyncio.gather(fetch(ctx.db, query), fetch_scalar(ctx.db, counted))
        else:
            rows, total = await fetch(ctx.db, query), None
    rows, page = make_page(ctx.settings.secret_key, scope, rows, args, needs, total)
    page.bundles = await enrich(ctx, rows, needs.node)
    return page


async def category_page(
    ctx: Context, category: VideoCategory, args: PageArgs, needs: ConnectionNeeds
) -> Page:
    """One category's page, through the loader, so sibling categories share statements."""
    with ctx.gate.loading():
        rows, page = await ctx.loaders.video_page_by_category.load((category.id, args, needs))
    page = fresh(page)
    page.bundles = await enrich(ctx, rows, needs.node)
    return page


_UNCHANGED: Any = object()


async def video_after_write(
    ctx: Context,
    video_pk: int,
    needs: VideoNeeds,
    progress: VideoProgress | None = _UNCHANGED,
    reaction: str | None = _UNCHANGED,
    counts: dict[str, int] | None = _UNCHANGED,
) -> VideoBundle:
    """The Video answer of a write, as the write left it.

    Fresh loaders, so nothing read before the write is reused; what the write itself just set
    (the caller's progress or reaction, or the empty counts of a new video) is primed rather
    than read again."""
    ctx.forget_loaded()
    if counts is not _UNCHANGED:
        ctx.loaders.reaction_counts_by_videos.prime_video(video_pk, counts or {})
    if progress is not _UNCHANGED:
        ctx.loaders.viewer_progress_by_videos.prime_video(video_pk, progress)
    if reaction is not _UNCHANGED:
        ctx.loaders.viewer_reaction_by_videos.prime_video(video_pk, reaction)
    bundle = await by_id(ctx, video_pk, needs)
    if bundle is None:  # deleted (or hidden) between the write and this read
        raise NotFound("no such video")
    return bundle
