"""Keyset pages on MariaDB: an index range scan that stops after the page, at any depth.

The SQL examined is the server's own: captured with count_queries while the page is requested
over HTTP, with a deep cursor made by the server's own functions (resolvers.pagination). Each
statement is then run through EXPLAIN (the plan) and ANALYZE (rows actually read).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import peewee
import pytest
from playhouse.test_utils import count_queries

from models import User, Video, VideoCategory
from resolvers.pagination import Order, catalogue_scope, category_scope, encode_cursor, order_by, sort_key
from resolvers.visibility import only_visible_videos
from tests.conftest import SECRET_KEY
from tests.factories import gid

FIRST = 4
DEEP = 1000  # the page whose cost must match page 1's
BIG_SHELF = 4400
SMALL_SHELVES = 10
SMALL_SHELF = 150
USERS = 300
T0 = dt.datetime(2024, 1, 1)

PAGE = (
    f"videos(first: {FIRST}, after: $after, orderBy: $o)"
    " { pageInfo { endCursor } edges { node { id } } }"
)
CATALOGUE = f"query($after: String, $o: VideoOrder) {{ {PAGE} }}"
CATEGORY = f"query($slug: String!, $after: String, $o: VideoOrder) {{ category(slug: $slug) {{ {PAGE} }} }}"


@pytest.fixture
def catalogue(backend: str, factory: Any, db: peewee.Database) -> dict[str, Any]:
    """Thousands of videos: most in one shelf, with ties on every sort key and many uploaders
    (with one user the optimizer would rightly start from the users table)."""
    if backend != "mysql":
        pytest.skip("EXPLAIN plans are examined on MariaDB/MySQL only")
    now = dt.datetime(2024, 6, 1)
    with factory.bound(), db.atomic():
        User.insert_many(
            [
                {
                    "email": f"viewer{n}@example.com",
                    "password_hash": "x",
                    "display_name": f"Viewer {n}",
                    "role": "member",
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(USERS)
            ]
        ).execute()
        uploaders = [u.id for u in User.select(User.id)]
    big = factory.category("Big Shelf")
    shelves = [big] + [factory.category(f"Shelf {n:02d}") for n in range(SMALL_SHELVES)]
    closed = factory.category("Closed", active=False)
    placement = [big] * BIG_SHELF + [s for s in shelves[1:] for _ in range(SMALL_SHELF)] + [closed] * 100
    rows = [
        {
            "title": f"title {(n * 37) % 3000:05d}",
            "category": shelf.id,
            "uploaded_by": uploaders[n % len(uploaders)],
            "video_url": f"https://media.example.com/{n}.mp4",
            "duration_seconds": 60,
            "view_count": (n * 7919) % 1009,
            "published": n % 23 != 0,
            "is_hero": False,
            "created_at": T0 + dt.timedelta(seconds=(n * 13) % 5000 // 2),
            "updated_at": now,
        }
        for n, shelf in enumerate(placement)
    ]
    with factory.bound(), db.atomic():
        for batch in peewee.chunked(rows, 500):
            Video.insert_many(batch).execute()
    # Fresh statistics, as a server that has been running would have.
    db.execute_sql("ANALYZE TABLE videos, video_categories, users").fetchall()
    return {"big": big, "rows": len(rows)}


def visible_in_order(factory: Any, order: Order, category: VideoCategory | None) -> list[Video]:
    """What an anonymous caller sees, in the order the server pages it."""
    with factory.bound():  # queries take their database when they are built
        query = Video.select(Video).join(VideoCategory)
        if category is not None:
            query = query.where(Video.category == category.id)
        return list(only_visible_videos(query, None).order_by(*order_by(order)))


def page_statement(client: Any, query: str, variables: dict[str, Any]) -> tuple[str, list[Any], list[str]]:
    """The keyset statement the server ran for one page, and the ids it answered."""
    with count_queries() as counter:
        data = client.data(query, variables)
    statements = [q.msg for q in counter.get_queries() if "FROM `videos`" in q.msg[0] and "LIMIT" in q.msg[0]]
    assert len(statements) == 1, [q.msg[0] for q in counter.get_queries()]
    videos = data["category"]["videos"] if "category" in data else data["videos"]
    sql, params = statements[0]
    return sql, list(params), [e["node"]["id"] for e in videos["edges"]]


def plan(db: peewee.Database, verb: str, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = db.execute_sql(f"{verb} {sql}", params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def videos_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    [row] = [r for r in rows if r["table"] == "t1"]  # peewee's alias for videos
    return row


def describe(rows: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"  {r['table']}: type={r['type']} key={r['key']} rows={r['rows']}"
        f" r_rows={r.get('r_rows')} {r['Extra']}"
        for r in rows
    )


def check_plan(label: str, explain: list[dict[str, Any]]) -> None:
    videos = videos_row(explain)
    assert videos["key"] is not None, f"{label}: videos read without an index\n{describe(explain)}"
    # "Using filesort" is reported on the first table of a join, whichever it is: it sorts the
    # joined videos all the same, so no row of the plan may have it.
    for row in explain:
        extra = row["Extra"] or ""
        assert "filesort" not in extra and "temporary" not in extra, f"{label}: sorts\n{describe(explain)}"


@pytest.mark.parametrize("order", list(Order), ids=[o.value for o in Order])
def test_catalogue_deep_page_costs_what_page_one_costs(client, db, factory, catalogue, order: Order) -> None:
    ranked = visible_in_order(factory, order, None)
    assert len(ranked) > FIRST * DEEP
    variables: dict[str, Any] = {"o": order.value}
    first_sql, first_params, first_ids = page_statement(client, CATALOGUE, variables)
    assert first_ids == [gid("Video", v) for v in ranked[:FIRST]]

    deep_after = encode_cursor(
        SECRET_KEY, sort_key(order, ranked[FIRST * DEEP - 1]), catalogue_scope(None, None, None)
    )
    deep_sql, deep_params, deep_ids = page_statement(client, CATALOGUE, {**variables, "after": deep_after})
    assert deep_ids == [gid("Video", v) for v in ranked[FIRST * DEEP : FIRST * DEEP + FIRST]]

    compare(db, f"Query.videos {order.value}", (first_sql, first_params), (deep_sql, deep_params))


@pytest.mark.parametrize("order", list(Order), ids=[o.value for o in Order])
def test_category_deep_page_costs_what_page_two_costs(client, db, factory, catalogue, order: Order) -> None:
    """A category's first page is the ROW_NUMBER statement of the home screen; its keyset
    statement starts at page 2, so page 2 is the baseline here."""
    big = catalogue["big"]
    ranked = visible_in_order(factory, order, big)
    assert len(ranked) > FIRST * DEEP
    variables: dict[str, Any] = {"o": order.value, "slug": big.slug}
    second_after = encode_cursor(SECRET_KEY, sort_key(order, ranked[FIRST - 1]), category_scope(big.id))
    second_sql, second_params, second_ids = page_statement(
        client, CATEGORY, {**variables, "after": second_after}
    )
    assert second_ids == [gid("Video", v) for v in ranked[FIRST : 2 * FIRST]]

    deep_after = encode_cursor(SECRET_KEY, sort_key(order, ranked[FIRST * DEEP - 1]), category_scope(big.id))
    deep_sql, deep_params, deep_ids = page_statement(client, CATEGORY, {**variables, "after": deep_after})
    assert deep_ids == [gid("Video", v) for v in ranked[FIRST * DEEP : FIRST * DEEP + FIRST]]

    compare(db, f"category.videos {order.value}", (second_sql, second_params), (deep_sql, deep_params))


def compare(
    db: peewee.Database, label: str, shallow: tuple[str, list[Any]], deep: tuple[str, list[Any]]
) -> None:
    shallow_explain = plan(db, "EXPLAIN", *shallow)
    deep_explain = plan(db, "EXPLAIN", *deep)
    check_plan(f"{label}, shallow page", shallow_explain)
    check_plan(f"{label}, page {DEEP}", deep_explain)

    shallow_estimate = int(videos_row(shallow_explain)["rows"])
    deep_estimate = int(videos_row(deep_explain)["rows"])
    assert deep_estimate <= 2 * shallow_estimate, (
        f"{label}: estimated {deep_estimate} rows at page {DEEP}, {shallow_estimate} near the start\n"
        f"{describe(deep_explain)}"
    )
    # What the server really read (ANALYZE runs the statement): a range scan that stops after
    # the page reads about FIRST + 1 rows at any depth.
    shallow_read = float(videos_row(plan(db, "ANALYZE", *shallow))["r_rows"] or 0)
    deep_analyzed = plan(db, "ANALYZE", *deep)
    deep_read = float(videos_row(deep_analyzed)["r_rows"] or 0)
    # A page reads FIRST + 1 rows at best; small differences below twice that are noise.
    floor = 2 * (FIRST + 1)
    assert deep_read <= 2 * max(shallow_read, floor), (
        f"{label}: read {deep_read} videos at page {DEEP}, {shallow_read} near the start\n"
        f"{describe(deep_analyzed)}"
    )
    assert shallow_read <= 2 * max(deep_read, floor), f"{label}: read {shallow_read} near the start"
    assert deep_read <= 5 * floor, (
        f"{label}: read {deep_read} videos for a page of {FIRST}\n{describe(deep_analyzed)}"
    )
