"""SQL statements per screen: few, and the same for a small catalogue as for a big one.

Counted twice on MariaDB: by peewee (every statement it logs) and by the server (Com_select), so
a statement issued behind peewee's back would show up too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import peewee
import pytest
from playhouse.test_utils import count_queries

from models import User, Video, VideoCategory, VideoProgress, VideoReaction, utcnow
from tests.conftest import _mysql_admin, _mysql_server
from tests.factories import gid

MAX_STATEMENTS = 10
ROW_NUMBER = "ROW_NUMBER() OVER (PARTITION BY"

CARD = """
  id title durationSeconds thumbnailUrl viewCount createdAt
  reactions { total counts { type count } viewerReaction }
  viewerProgress { lastPosition }
  uploadedBy { displayName }
  category { name }
"""
PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"

HOME = f"""{{
  me {{ id displayName role email }}
  heroVideo {{ {CARD} description }}
  continueWatching {{ id lastPosition percentComplete video {{ {CARD} }} }}
  categories {{
    id name slug videoCount
    videos(first: 25) {{ totalCount {PAGE_INFO} edges {{ cursor node {{ {CARD} }} }} }}
  }}
}}"""
# auth, hero, continueWatching, categories, first pages (ROW_NUMBER), counts per category,
# reaction counts, the viewer's reactions, the viewer's progress.
HOME_STATEMENTS = 9

CATEGORY = f"""query($slug: String!, $after: String) {{
  me {{ id }}
  category(slug: $slug) {{
    id name videoCount
    videos(first: 25, after: $after) {{ totalCount {PAGE_INFO} edges {{ cursor node {{ {CARD} }} }} }}
  }}
}}"""
# auth, category, its first page, its count, reaction counts, viewer reactions, viewer progress.
CATEGORY_STATEMENTS = 7

PLAYER = f"""query($id: ID!) {{
  video(id: $id) {{
    {CARD} description videoUrl captionUrl isHero published updatedAt
    category {{ id name slug videoCount }}
    uploadedBy {{ id displayName email role }}
    viewerProgress {{ id watchedSeconds durationSeconds lastPosition completed percentComplete updatedAt }}
  }}
  continueWatching {{ id lastPosition percentComplete video {{ {CARD} }} }}
}}"""
# auth, the video, continueWatching, reaction counts, viewer reactions, viewer progress, category counts.
PLAYER_STATEMENTS = 7

SEARCH = f"""query($term: String!) {{
  videos(first: 25, orderBy: POPULAR, filter: {{search: $term}}) {{
    totalCount {PAGE_INFO} edges {{ cursor node {{ {CARD} }} }}
  }}
}}"""
# auth, the page, its count, reaction counts, viewer reactions, viewer progress.
SEARCH_STATEMENTS = 6

SIZES = {"small": (3, 3), "big": (50, 100)}
T0 = dt.datetime(2024, 1, 1)


@dataclass
class Screen:
    """One catalogue, and the signed-in member who looks at it."""

    size: str
    categories: list[VideoCategory]
    videos_by_category: dict[int, list[int]]
    token: str
    viewer: User
    hero_id: int
    watched: list[int] = field(default_factory=list)


def _build(factory: Any, size: str) -> Screen:
    n_categories, per_category = SIZES[size]
    uploader = factory.admin()
    viewer = factory.user()
    fans = [factory.user() for _ in range(3)]
    categories = [factory.category(f"Shelf {n:03d}", sort_order=n) for n in range(n_categories)]
    now = utcnow()
    rows = [
        {
            "title": f"Video {c:03d}-{v:03d} searchable" if v % 2 == 0 else f"Video {c:03d}-{v:03d}",
            "description": "a description",
            "category": category.id,
            "uploaded_by": uploader.id,
            "video_url": f"https://media.example.com/{c}/{v}.mp4",
            "thumbnail_url": f"https://media.example.com/{c}/{v}.jpg",
            "duration_seconds": 600,
            "view_count": v,
            "published": True,
            "is_hero": False,
            "created_at": T0 + dt.timedelta(minutes=c * per_category + v),
            "updated_at": now,
        }
        for c, category in enumerate(categories)
        for v in range(per_category)
    ]
    with factory.bound(), factory.db.atomic():
        for batch in peewee.chunked(rows, 500):
            Video.insert_many(batch).execute()
        by_category: dict[int, list[int]] = {c.id: [] for c in categories}
        # Most viewed first: the order of every first page.
        ranked: Any = Video.select(Video.id, Video.category).order_by(
            Video.view_count.desc(), Video.id.desc()
        )
        for vid, cid in ranked.tuples():
            by_category[cid].append(vid)
        hero_id = by_category[categories[0].id][-1]
        Video.update(is_hero=True).where(Video.id == hero_id).execute()
        # Reactions and progress on videos of every first page (and the hero).
        reacted = [ids[n] for ids in by_category.values() for n in range(min(3, len(ids)))]
        reacted += [] if hero_id in reacted else [hero_id]
        kinds = ("like", "love", "haha", "wow", "sad", "angry")
        reactions = [
            {
                "user": fan.id,
                "video": vid,
                "reaction_type": kinds[(i + j) % 6],
                "created_at": now,
                "updated_at": now,
            }
            for i, vid in enumerate(reacted)
            for j, fan in enumerate([viewer, *fans][: 1 + i % 4])
        ]
        for batch in peewee.chunked(reactions, 500):
            VideoReaction.insert_many(batch).execute()
        watched = [ids[1] for ids in list(by_category.values())[:12]]
        watched += [] if hero_id in watched else [hero_id]
        VideoProgress.insert_many(
            [
                {
                    "user": viewer.id,
                    "video": vid,
                    "watched_seconds": 60 + n,
                    "last_position": 30 + n,
                    "duration_seconds": 600,
                    "completed": False,
                    "created_at": now,
                    "updated_at": now + dt.timedelta(seconds=n),
                }
                for n, vid in enumerate(watched)
            ]
        ).execute()
    return Screen(size, categories, by_category, factory.token(viewer), viewer, hero_id, watched)


@pytest.fixture(params=list(SIZES))
def screen(request: pytest.FixtureRequest, factory: Any, client: Any) -> Screen:
    built = _build(factory, str(request.param))
    client.data("{ categories { id } }")  # the pool is open before anything is counted
    return built


class ServerCounter:
    """Com_select as the MariaDB server counts it (SHOW STATUS is not itself a SELECT)."""

    def __init__(self) -> None:
        self.conn = _mysql_admin(_mysql_server())

    def read(self) -> int:
        with self.conn.cursor() as cur:
            cur.execute("SHOW GLOBAL STATUS LIKE 'Com_select'")
            row = cur.fetchone()
        assert row is not None
        return int(row[1])


@pytest.fixture
def server_counter(backend: str) -> Iterator[ServerCounter | None]:
    if backend != "mysql":
        yield None
        return
    counter = ServerCounter()
    try:
        yield counter
    finally:
        counter.conn.close()


@contextmanager
def counted() -> Iterator[count_queries]:
    with count_queries() as counter:
        yield counter


def _listing(counter: count_queries) -> str:
    return "\n".join(f"{n + 1}. {q.msg[0]}" for n, q in enumerate(counter.get_queries()))


def measure(
    server: ServerCounter | None, request: Callable[[], dict[str, Any]]
) -> tuple[dict[str, Any], list[str]]:
    """The answer and the statements peewee issued for it, checked against the server's count."""
    for attempt in range(3):
        before = server.read() if server is not None else 0
        with counted() as counter:
            data = request()
        statements = [q.msg[0] for q in counter.get_queries()]
        if server is None:
            return data, statements
        delta = server.read() - before
        # Every statement of a read is a SELECT, so the two counts must agree.
        assert all(s.lstrip().upper().startswith("SELECT") for s in statements), _listing(counter)
        if delta == len(statements):
            return data, statements
        # Only another client of the shared server can add SELECTs; a real mismatch repeats.
        last = (delta, _listing(counter))
        assert attempt < 2, f"the server counted {last[0]} SELECTs, peewee {len(statements)}:\n{last[1]}"
    raise AssertionError("unreachable")


def pinned(statements: list[str], expected: int) -> None:
    listing = "\n".join(f"{n + 1}. {s}" for n, s in enumerate(statements))
    assert len(statements) == expected, f"{len(statements)} statements, expected {expected}:\n{listing}"
    assert len(statements) <= MAX_STATEMENTS, listing


def test_home_screen(client, screen: Screen, server_counter) -> None:
    data, statements = measure(server_counter, lambda: client.data(HOME, token=screen.token))
    pinned(statements, HOME_STATEMENTS)

    ranked = [s for s in statements if ROW_NUMBER in s]
    assert len(ranked) == 1, "\n".join(statements)
    # Real answers, not empty lists that cost nothing.
    n_categories, per_category = SIZES[screen.size]
    assert data["me"]["id"] == gid("User", screen.viewer)
    assert data["heroVideo"]["id"] == gid("Video", Video(id=screen.hero_id))
    assert data["heroVideo"]["reactions"]["total"] >= 1
    assert len(data["continueWatching"]) == min(10, len(screen.watched))
    assert all(row["video"]["viewerProgress"] is not None for row in data["continueWatching"])
    assert [c["id"] for c in data["categories"]] == [gid("VideoCategory", c) for c in screen.categories]
    for category in data["categories"]:
        assert category["videoCount"] == per_category
        videos = category["videos"]
        assert videos["totalCount"] == per_category
        assert len(videos["edges"]) == min(25, per_category)
        assert videos["pageInfo"]["hasNextPage"] is (per_category > 25)
        first = videos["edges"][0]["node"]
        assert first["category"]["name"] == category["name"]
        assert first["reactions"]["total"] >= 1
        assert [c["type"] for c in first["reactions"]["counts"]] == [
            "LIKE",
            "LOVE",
            "HAHA",
            "WOW",
            "SAD",
            "ANGRY",
        ]
    assert len(data["categories"]) == n_categories
    with_progress = {
        e["node"]["id"]
        for c in data["categories"]
        for e in c["videos"]["edges"]
        if e["node"]["viewerProgress"]
    }
    on_first_pages = {vid for ids in screen.videos_by_category.values() for vid in ids[:25]}
    assert with_progress == {gid("Video", Video(id=v)) for v in screen.watched if v in on_first_pages}
    assert len(with_progress) >= min(12, n_categories)
    with_reaction = [
        e["node"]
        for c in data["categories"]
        for e in c["videos"]["edges"]
        if e["node"]["reactions"]["viewerReaction"]
    ]
    assert with_reaction


def test_category_screen(client, screen: Screen, server_counter) -> None:
    category = screen.categories[0]
    variables: dict[str, Any] = {"slug": category.slug}
    data, statements = measure(server_counter, lambda: client.data(CATEGORY, variables, token=screen.token))
    pinned(statements, CATEGORY_STATEMENTS)
    _, per_category = SIZES[screen.size]
    videos = data["category"]["videos"]
    assert data["category"]["videoCount"] == videos["totalCount"] == per_category
    expected = screen.videos_by_category[category.id][:25]
    assert [e["node"]["id"] for e in videos["edges"]] == [gid("Video", Video(id=i)) for i in expected]
    assert videos["edges"][0]["node"]["reactions"]["total"] >= 1

    if not videos["pageInfo"]["hasNextPage"]:
        return
    # The next page takes another path (a keyset query of its own): just as cheap.
    variables["after"] = videos["pageInfo"]["endCursor"]
    data, statements = measure(server_counter, lambda: client.data(CATEGORY, variables, token=screen.token))
    pinned(statements, CATEGORY_STATEMENTS)
    expected = screen.videos_by_category[category.id][25:50]
    assert [e["node"]["id"] for e in data["category"]["videos"]["edges"]] == [
        gid("Video", Video(id=i)) for i in expected
    ]


def test_player_screen(client, screen: Screen, server_counter) -> None:
    video_id = gid("Video", Video(id=screen.watched[0]))
    data, statements = measure(
        server_counter, lambda: client.data(PLAYER, {"id": video_id}, token=screen.token)
    )
    pinned(statements, PLAYER_STATEMENTS)
    _, per_category = SIZES[screen.size]
    assert data["video"]["id"] == video_id
    assert data["video"]["category"]["videoCount"] == per_category
    assert data["video"]["viewerProgress"]["lastPosition"] == 30
    assert data["video"]["reactions"]["total"] >= 1
    assert len(data["continueWatching"]) == min(10, len(screen.watched))


def test_search(client, screen: Screen, server_counter) -> None:
    variables = {"term": "SEARCHABLE"}
    data, statements = measure(server_counter, lambda: client.data(SEARCH, variables, token=screen.token))
    pinned(statements, SEARCH_STATEMENTS)
    n_categories, per_category = SIZES[screen.size]
    videos = data["videos"]
    assert videos["totalCount"] == n_categories * ((per_category + 1) // 2)
    assert len(videos["edges"]) == min(25, videos["totalCount"])
    assert all(e["node"]["title"].endswith("searchable") for e in videos["edges"])


def test_anonymous_home_screen_costs_no_more(client, screen: Screen, server_counter) -> None:
    """Without a viewer there is no authentication and nothing of the viewer's to load."""
    data, statements = measure(server_counter, lambda: client.data(HOME))
    assert data["me"] is None
    assert data["continueWatching"] == []
    # hero, categories, first pages, counts, reaction counts.
    pinned(statements, 5)
    assert sum(ROW_NUMBER in s for s in statements) == 1
