"""Dataloaders for every relation, built fresh for each request.

Each batch function runs one statement for all the keys asked for in the same tick and returns
results in key order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from peewee import fn
from strawberry.dataloader import DataLoader

from models import User, Video, VideoCategory, VideoProgress, VideoReaction
from resolvers.accounts.viewer import Viewer
from resolvers.db import fetch, fetch_rows
from resolvers.pages import (
    JOINED_CATEGORY_COLUMNS,
    JOINED_USER_COLUMNS,
    PageKey,
    PageRows,
    ReactionCounts,
    category_pages,
)
from resolvers.visibility import only_visible_videos

K = TypeVar("K")
V = TypeVar("V")


def in_key_order(keys: Sequence[K], found: dict[K, V], default: Any = None) -> list[V]:
    return [found.get(k, default) for k in keys]


class _Loader(DataLoader[K, V]):
    """A DataLoader whose batch function is a method with the request's database and viewer."""

    def __init__(self, db: Any, viewer: Viewer | None) -> None:
        self.db = db
        self.viewer = viewer
        super().__init__(load_fn=self.fetch_batch)

    async def fetch_batch(self, keys: list[K]) -> list[V]:
        raise NotImplementedError


class UserByIdLoader(_Loader[int, User | None]):
    async def fetch_batch(self, keys: list[int]) -> list[User | None]:
        rows = await fetch(self.db, User.select().where(User.id.in_(keys)))
        return in_key_order(keys, {u.id: u for u in rows})


class VideoByIdLoader(_Loader[int, Video | None]):
    """Videos the viewer may see, with their category (and uploader) joined in."""

    async def fetch_batch(self, keys: list[int]) -> list[Video | None]:
        query = only_visible_videos(
            Video.select(Video, *JOINED_CATEGORY_COLUMNS, *JOINED_USER_COLUMNS)
            .join(VideoCategory)
            .switch(Video)
            .join(User)
            .where(Video.id.in_(keys)),
            self.viewer,
        )
        return in_key_order(keys, {v.id: v for v in await fetch(self.db, query)})


class VideoCountByCategoryLoader(_Loader[int, int]):
    """How many videos of each category the viewer may see (videoCount, totalCount)."""

    async def fetch_batch(self, keys: list[int]) -> list[int]:
        query = only_visible_videos(
            Video.select(Video.category, fn.COUNT(Video.id).alias("n"))
            .join(VideoCategory)
            .where(Video.category.in_(keys))
            .group_by(Video.category),
            self.viewer,
        )
        rows = await fetch_rows(self.db, query)
        return in_key_order(keys, dict(rows), default=0)


class ReactionCountsByVideoLoader(_Loader[int, ReactionCounts]):
    async def fetch_batch(self, keys: list[int]) -> list[ReactionCounts]:
        query = (
            VideoReaction.select(VideoReaction.video, VideoReaction.reaction_type, fn.COUNT(VideoReaction.id))
            .where(VideoReaction.video.in_(keys))
            .group_by(VideoReaction.video, VideoReaction.reaction_type)
        )
        found: dict[int, ReactionCounts] = defaultdict(dict)
        for video_id, kind, n in await fetch_rows(self.db, query):
            found[video_id][kind] = n
        return [found.get(k) or {} for k in keys]


class ViewerReactionByVideoLoader(_Loader[int, str | None]):
    async def fetch_batch(self, keys: list[int]) -> list[str | None]:
        if self.viewer is None:
            return [None] * len(keys)
        query = VideoReaction.select(VideoReaction.video, VideoReaction.reaction_type).where(
            (VideoReaction.user == self.viewer.id) & VideoReaction.video.in_(keys)
        )
        return in_key_order(keys, dict(await fetch_rows(self.db, query)))


class ViewerProgressByVideoLoader(_Loader[int, VideoProgress | None]):
    async def fetch_batch(self, keys: list[int]) -> list[VideoProgress | None]:
        if self.viewer is None:
            return [None] * len(keys)
        query = VideoProgress.select().where(
            (VideoProgress.user == self.viewer.id) & VideoProgress.video.in_(keys)
        )
        return in_key_order(keys, {p.video_id: p for p in await fetch(self.db, query)})


class VideoPageByCategoryLoader(DataLoader[PageKey, PageRows]):
    """Pages of a category's videos: sibling categories asking for the same page share one
    window-function statement (see resolvers.pages.category_pages)."""

    def __init__(
        self, db: Any, viewer: Viewer | None, secret: bytes, counts: VideoCountByCategoryLoader
    ) -> None:
        self.db = db
        self.viewer = viewer
        self.secret = secret
        self.counts = counts
        super().__init__(load_fn=self.fetch_batch)

    async def fetch_batch(self, keys: list[PageKey]) -> list[PageRows | BaseException]:
        return await category_pages(self.db, self.viewer, self.secret, self.counts.load_many, keys)


class VideoListLoader(DataLoader[tuple[int, ...], list[V]]):
    """One key per list of videos, for a relation a per-video loader fetches.

    A screen's lists (the hero, continue-watching, 20 rows of 25) still share one statement, but
    each list is one future to await instead of one per video: with 500 videos and three
    relations, per-video futures and their callbacks cost more than the statements' decoding.
    Values fetched or primed once are kept for the request, as a DataLoader's cache would."""

    def __init__(self, per_video: _Loader[int, V]) -> None:
        self.per_video = per_video
        self.known: dict[int, V] = {}
        super().__init__(load_fn=self.fetch_lists, cache=False)

    def prime_video(self, video_id: int, value: V) -> None:
        self.known[video_id] = value

    async def fetch_lists(self, lists: list[tuple[int, ...]]) -> list[list[V]]:
        known = self.known
        missing = list(dict.fromkeys(k for ids in lists for k in ids if k not in known))
        if missing:
            known.update(zip(missing, await self.per_video.fetch_batch(missing), strict=True))
        return [[known[k] for k in ids] for ids in lists]


@dataclass
class Loaders:
    user_by_id: UserByIdLoader
    video_by_id: VideoByIdLoader
    video_count_by_category: VideoCountByCategoryLoader
    reaction_counts_by_videos: VideoListLoader[ReactionCounts]
    viewer_reaction_by_videos: VideoListLoader[str | None]
    viewer_progress_by_videos: VideoListLoader[VideoProgress | None]
    video_page_by_category: VideoPageByCategoryLoader

    @classmethod
    def build(cls, db: Any, viewer: Viewer | None, secret: bytes) -> Loaders:
        counts = VideoCountByCategoryLoader(db, viewer)
        return cls(
            user_by_id=UserByIdLoader(db, viewer),
            video_by_id=VideoByIdLoader(db, viewer),
            video_count_by_category=counts,
            reaction_counts_by_videos=VideoListLoader(ReactionCountsByVideoLoader(db, viewer)),
            viewer_reaction_by_videos=VideoListLoader(ViewerReactionByVideoLoader(db, viewer)),
            viewer_progress_by_videos=VideoListLoader(ViewerProgressByVideoLoader(db, viewer)),
            video_page_by_category=VideoPageByCategoryLoader(db, viewer, secret, counts),
        )
