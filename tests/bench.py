"""Benchmarks: `make bench-inprocess` (or `python -m tests.bench [--database-url URL]`).

Machines here are noisy, so every figure is a ratio against a baseline measured in the same run,
interleaved with it, and the median of several rounds. Nothing here is a test: it prints figures.

1. Home screen (hero, continueWatching, 50 categories x 25 videos with reactions, viewer state,
   uploader and category) against `{ __typename }` through the same stack: what a screen costs
   beyond the fixed cost of a request.
2. The same home screen with 3 categories x 3 videos: how cost grows with the catalogue
   (statements stay fixed; the rest is per-field executor work).
3. A keyset page deep in a 5,000-video catalogue against the first page: page N costs page 1.
4. Enum output: strawberry's enum serialization (a Python enum member per value, matched by a
   linear scan) against graphql-core's table lookup (the raw stored string), for 3,000 values.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any

import httpx2
import strawberry
from playhouse.test_utils import count_queries

from models import ALL_MODELS, AccessToken, User, Video, VideoCategory, VideoProgress, VideoReaction, utcnow
from models import migrate as migrations
from models.database import make_sync_database, parse_url
from resolvers.accounts.tokens import expiry, new_token, token_hash
from resolvers.config import Settings

SECRET = b"bench-secret-key-0123456789abcdef-0123456789"
HOME = """
query Home {
  me { id displayName }
  heroVideo { ...Card }
  continueWatching { id percentComplete lastPosition video { ...Card } }
  categories {
    id name slug videoCount
    videos(first: 25) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { ...Card } }
    }
  }
}
fragment Card on Video {
  id title thumbnailUrl durationSeconds viewCount createdAt
  uploadedBy { id displayName }
  category { id name }
  reactions { total viewerReaction counts { type count } }
  viewerProgress { lastPosition percentComplete }
}
"""
PAGE = """query($after: String) {
  videos(first: 20, after: $after, orderBy: POPULAR) { edges { node { id title } } pageInfo { endCursor } }
}"""


def build_catalogue(url: str, categories: int, per_category: int) -> str:
    """Migrate and fill a database; returns a member's bearer token."""
    db = make_sync_database(parse_url(url))
    migrations.apply(db)
    with db.bind_ctx(ALL_MODELS), db.atomic():
        for model in reversed(ALL_MODELS):
            model.delete().execute()
        admin = User.create(email="a@bench", password_hash="!", display_name="Admin", role="admin")
        member = User.create(email="m@bench", password_hash="!", display_name="Member", role="member")
        now = utcnow()
        for c in range(categories):
            cat = VideoCategory.create(name=f"Category {c}", slug=f"c{c}", sort_order=c)
            rows = [
                dict(
                    title=f"Video {c}-{v}",
                    category=cat.id,
                    uploaded_by=admin.id,
                    video_url="https://x/v.mp4",
                    duration_seconds=600,
                    view_count=(v * 7919) % 1000,
                    published=True,
                    created_at=now,
                    updated_at=now,
                    is_hero=(c == 0 and v == 0),
                )
                for v in range(per_category)
            ]
            for start in range(0, len(rows), 500):
                Video.insert_many(rows[start : start + 500]).execute()
        video_ids = [v.id for v in Video.select(Video.id).limit(200)]
        VideoReaction.insert_many(
            [
                dict(user=member.id, video=vid, reaction_type="love", created_at=now, updated_at=now)
                for vid in video_ids[::2]
            ]
        ).execute()
        VideoProgress.insert_many(
            [
                dict(
                    user=member.id,
                    video=vid,
                    watched_seconds=60,
                    last_position=60,
                    duration_seconds=600,
                    completed=False,
                    created_at=now,
                    updated_at=now,
                )
                for vid in video_ids[:10]
            ]
        ).execute()
        token = new_token()
        AccessToken.create(user=member.id, token_hash=token_hash(SECRET, token), expires_at=expiry(now, 3600))
    db.close()
    return token


async def timed(fn: Callable[[], Awaitable[Any]], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


async def ratio(
    subject: Callable[[], Awaitable[Any]], baseline: Callable[[], Awaitable[Any]], rounds: int, repeat: int
) -> tuple[float, float, float]:
    """Median over interleaved rounds of subject/baseline; also both medians in ms."""
    ratios, subjects, baselines = [], [], []
    for _ in range(rounds):
        b = await timed(baseline, repeat)
        s = await timed(subject, repeat)
        ratios.append(s / b)
        subjects.append(s)
        baselines.append(b)
    return statistics.median(ratios), statistics.median(subjects) * 1e3, statistics.median(baselines) * 1e3


async def screen_figures(url: str, categories: int, per_category: int, rounds: int) -> None:
    from server import create_app

    token = build_catalogue(url, categories, per_category)
    app = create_app(Settings(database=parse_url(url), secret_key=SECRET))
    headers = {"Authorization": f"Bearer {token}"}
    transport = httpx2.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx2.AsyncClient(transport=transport, base_url="http://bench") as client,
    ):

        async def post(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
            payload = {"query": query, "variables": variables or {}}
            body = (await client.post("/graphql", json=payload, headers=headers)).json()
            assert "errors" not in body, body
            return dict(body)

        await post(HOME)  # warm the pool and the parser cache
        with count_queries() as counter:
            body = await post(HOME)
        videos = sum(len(c["videos"]["edges"]) for c in body["data"]["categories"])
        r, s, b = await ratio(lambda: post(HOME), lambda: post("{ __typename }"), rounds, 3)
        print(
            f"home screen, {categories} categories x {min(per_category, 25)} shown ({videos} videos): "
            f"{counter.count} statements; {s:.1f} ms vs {b:.2f} ms for {{ __typename }}: ratio {r:.1f}x"
        )
        if categories * per_category < 1000:
            return
        # Walk far into POPULAR, then compare that page with page 1.
        after = None
        for _ in range(150):
            after = (await post(PAGE, {"after": after}))["data"]["videos"]["pageInfo"]["endCursor"]
        deep = {"after": after}
        r, s, b = await ratio(lambda: post(PAGE, deep), lambda: post(PAGE), rounds, 5)
        total = categories * per_category
        print(f"keyset page 151 of {total} videos vs page 1: {s:.2f} ms vs {b:.2f} ms: ratio {r:.2f}x")


async def http_figures(url: str, rounds: int) -> None:
    await screen_figures(url, 50, 100, rounds)
    await screen_figures(url, 3, 3, rounds)


@strawberry.enum
class _Kind(Enum):
    LIKE = "like"
    LOVE = "love"
    HAHA = "haha"
    WOW = "wow"
    SAD = "sad"
    ANGRY = "angry"


@strawberry.type
class _Item:
    kind: _Kind


_MEMBERS = [_Item(kind=list(_Kind)[i % 6]) for i in range(3000)]
_STRINGS = [_Item(kind=list(_Kind)[i % 6].value) for i in range(3000)]  # type: ignore[arg-type]


@strawberry.type
class _EnumQuery:
    @strawberry.field
    def members(self) -> list[_Item]:
        return _MEMBERS

    @strawberry.field
    def strings(self) -> list[_Item]:
        return _STRINGS


def enum_figure(rounds: int) -> None:
    schema = strawberry.Schema(query=_EnumQuery)
    members = schema.execute_sync("{ members { kind } }").data
    strings = schema.execute_sync("{ strings { kind } }").data
    assert members is not None and strings is not None and members["members"] == strings["strings"]

    async def run(query: str) -> None:
        schema.execute_sync(query)

    r, s, b = asyncio.run(
        ratio(lambda: run("{ members { kind } }"), lambda: run("{ strings { kind } }"), rounds, 3)
    )
    label = "3,000 enum values, strawberry enum members vs stored strings"
    print(f"{label}: {s:.1f} ms vs {b:.1f} ms: ratio {r:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="default: a fresh SQLite file; use mysql://root@127.0.0.1:3306/<scratch db> for MariaDB",
    )
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    print(f"database: {parse_url(url).describe()}")
    asyncio.run(http_figures(url, args.rounds))
    enum_figure(args.rounds)


if __name__ == "__main__":
    main()
