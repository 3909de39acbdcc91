"""Categories, with the pages of videos their selection asks for loaded for all of them at once."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from models import VideoCategory
from resolvers.context import Context
from resolvers.db import fetch
from resolvers.pages import ConnectionNeeds, Page, PageRows, fresh
from resolvers.pagination import PageArgs
from resolvers.videos import enrich
from resolvers.visibility import is_admin, only_visible_categories


@dataclass(frozen=True)
class VideosSelection:
    """One `videos(...)` field selected under the categories (aliases may select several)."""

    args: PageArgs
    needs: ConnectionNeeds


@dataclass
class CategoryBundle:
    row: VideoCategory
    video_count: int | None = None
    # First pages, loaded with the list; VideoCategory.videos loads any other page itself.
    pages: dict[PageArgs, Page] = field(default_factory=dict)


async def _load(
    ctx: Context, query: Any, want_count: bool, selections: list[VideosSelection]
) -> list[CategoryBundle]:
    firsts = [s for s in selections if s.args.after is None]
    with ctx.gate.loading():
        rows: list[VideoCategory] = await fetch(ctx.db, query)
        ids = [row.id for row in rows]
        counts_job = ctx.loaders.video_count_by_category.load_many(ids) if want_count and ids else None
        pages_job = ctx.loaders.video_page_by_category.load_many(
            [(category_id, s.args, s.needs) for s in firsts for category_id in ids]
        )
        page_rows = await pages_job
        counts = await counts_job if counts_job is not None else [None] * len(rows)

    bundles = [CategoryBundle(row, video_count=n) for row, n in zip(rows, counts, strict=True)]

    async def fill(selection: VideosSelection, pages: list[PageRows]) -> None:
        # One enrichment for the rows of every category: the dataloaders batch them together.
        mine = [(fresh(page), rows_) for rows_, page in pages]
        flat = [(page, row) for page, rows_ in mine for row in rows_]
        enriched = await enrich(ctx, [row for _, row in flat], selection.needs.node)
        for (page, _), bundle in zip(flat, enriched, strict=True):
            page.bundles.append(bundle)
        for category, (page, _) in zip(bundles, mine, strict=True):
            category.pages[selection.args] = page

    n = len(ids)
    await asyncio.gather(*(fill(s, page_rows[i * n : (i + 1) * n]) for i, s in enumerate(firsts)))
    return bundles


async def list_categories(
    ctx: Context, include_inactive: bool, want_count: bool, selections: list[VideosSelection]
) -> list[CategoryBundle]:
    """Ordered by sort order, then name; inactive ones only for admins who ask for them."""
    query = VideoCategory.select().order_by(VideoCategory.sort_order, VideoCategory.name, VideoCategory.id)
    if not (include_inactive and is_admin(ctx.viewer)):
        query = query.where(VideoCategory.is_active == True)  # noqa: E712
    return await _load(ctx, query, want_count, selections)


async def _one(
    ctx: Context, where: Any, want_count: bool, selections: list[VideosSelection]
) -> CategoryBundle | None:
    query = only_visible_categories(VideoCategory.select().where(where), ctx.viewer)
    bundles = await _load(ctx, query, want_count, selections)
    return bundles[0] if bundles else None


async def category_by_slug(
    ctx: Context, slug: str, want_count: bool, selections: list[VideosSelection]
) -> CategoryBundle | None:
    return await _one(ctx, VideoCategory.slug == slug, want_count, selections)


async def category_by_id(
    ctx: Context, pk: int, want_count: bool, selections: list[VideosSelection]
) -> CategoryBundle | None:
    return await _one(ctx, VideoCategory.id == pk, want_count, selections)


async def video_count(ctx: Context, category_id: int) -> int:
    with ctx.gate.loading():
        return int(await ctx.loaders.video_count_by_category.load(category_id))
