"""Keyset pagination: every order walked page by page visits each visible video once, in order."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from models import Video
from tests.factories import gid

ORDERS = ("POPULAR", "NEWEST", "TITLE")
T = dt.datetime(2024, 1, 1, 12, 0, 0)
US = dt.timedelta(microseconds=1)
PAGE_FIELDS = """
  totalCount
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  edges { cursor node { id title viewCount createdAt } }
"""
CATALOGUE_PAGE = f"""query($first: Int, $after: String, $o: VideoOrder) {{
  videos(first: $first, after: $after, orderBy: $o) {{ {PAGE_FIELDS} }}
}}"""
CATEGORY_PAGE = f"""query($slug: String!, $first: Int, $after: String, $o: VideoOrder) {{
  category(slug: $slug) {{ videos(first: $first, after: $after, orderBy: $o) {{ {PAGE_FIELDS} }} }}
}}"""

# (title, view count, created_at). Lower-case ASCII titles, so Python orders them as both
# databases' collations do. Ties on every key: the id must break them. Where view counts tie,
# creation times tie too or grow with the id, so "then newest" and "then highest id" agree here
# (test_popular_ties_are_newest_first covers where they disagree).
SHELF = [
    ("delta", 5, T),
    ("alpha", 5, T),
    ("same title", 7, T + US),
    ("same title", 5, T),
    ("bravo", 9, T + 2 * US),
    ("same title", 0, T + dt.timedelta(seconds=1)),
    ("charlie", 7, T + US),
    ("echo", 0, T + dt.timedelta(seconds=2)),
    ("alpha", 0, T + dt.timedelta(seconds=3)),
    ("foxtrot", 100, T - dt.timedelta(days=1)),
    ("golf", 3, T),
    ("hotel", 3, T + 5 * US),
]


def expected_order(rows: list[Video], order: str) -> list[str]:
    if order == "POPULAR":  # view count descending, then newest, then the id
        ranked = sorted(rows, key=lambda r: (r.view_count, r.created_at, r.id), reverse=True)
    elif order == "NEWEST":
        ranked = sorted(rows, key=lambda r: (r.created_at, r.id), reverse=True)
    else:
        ranked = sorted(rows, key=lambda r: (r.title, r.id))
    return [gid("Video", r) for r in ranked]


class Library:
    def __init__(self, factory: Any) -> None:
        uploader = factory.admin()
        self.shelf = factory.category("Shelf")
        other = factory.category("Other")
        closed = factory.category("Closed", active=False)

        def make(
            category: Any, title: str, views: int, created: dt.datetime, published: bool = True
        ) -> Video:
            return factory.video(
                category, uploader, title=title, views=views, created_at=created, published=published
            )

        self.shelf_rows = [make(self.shelf, *spec) for spec in SHELF]
        self.other_rows = [make(other, "alpha", 5, T), make(other, "zulu", 50, T)]
        self.hidden = [
            make(self.shelf, "alpha", 5, T, published=False),
            make(closed, "alpha", 5, T),
            make(closed, "bravo", 6, T + US, published=False),
        ]
        self.admin_token = factory.token(factory.admin())

    def visible(self, admin: bool, category: bool) -> list[Video]:
        rows = list(self.shelf_rows) if category else self.shelf_rows + self.other_rows
        if admin:
            rows += [v for v in self.hidden if not category or v.category_id == self.shelf.id]
        return rows


@pytest.fixture
def lib(factory) -> Library:
    return Library(factory)


def fetch_page(client, lib: Library, where: str, admin: bool, **variables: Any) -> dict[str, Any]:
    token = lib.admin_token if admin else None
    if where == "category":
        data = client.data(CATEGORY_PAGE, {"slug": lib.shelf.slug, **variables}, token=token)
        return data["category"]["videos"]
    return client.data(CATALOGUE_PAGE, variables, token=token)["videos"]


def walk(client, lib: Library, where: str, admin: bool, order: str, first: int) -> list[dict[str, Any]]:
    pages = []
    after = None
    for _ in range(100):
        page = fetch_page(client, lib, where, admin, first=first, after=after, o=order)
        pages.append(page)
        if not page["pageInfo"]["hasNextPage"]:
            return pages
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("pagination never ended")


@pytest.mark.parametrize("admin", [False, True], ids=["anonymous", "admin"])
@pytest.mark.parametrize("where", ["catalogue", "category"])
@pytest.mark.parametrize("order", ORDERS)
def test_walk_visits_each_visible_video_once_in_order(
    client, lib, order: str, where: str, admin: bool
) -> None:
    visible = lib.visible(admin, category=where == "category")
    expected = expected_order(visible, order)
    pages = walk(client, lib, where, admin, order, first=3)

    seen = [edge["node"]["id"] for page in pages for edge in page["edges"]]
    assert seen == expected
    assert len(set(seen)) == len(seen)
    assert len(pages) == -(-len(expected) // 3)  # no empty page at the end, even on an exact multiple
    for n, page in enumerate(pages):
        info = page["pageInfo"]
        edges = page["edges"]
        assert page["totalCount"] == len(expected)
        assert len(edges) == (3 if n < len(pages) - 1 else len(expected) - 3 * n)
        assert info["hasNextPage"] is (n < len(pages) - 1)
        assert info["hasPreviousPage"] is (n > 0)
        assert info["startCursor"] == edges[0]["cursor"]
        assert info["endCursor"] == edges[-1]["cursor"]
        assert len({e["cursor"] for e in edges}) == len(edges)


@pytest.mark.parametrize("where", ["catalogue", "category"])
@pytest.mark.parametrize("order", ORDERS)
def test_one_by_one_and_all_at_once_agree(client, lib, order: str, where: str) -> None:
    at_once = fetch_page(client, lib, where, False, first=100, o=order)
    assert at_once["pageInfo"]["hasNextPage"] is False
    assert at_once["pageInfo"]["hasPreviousPage"] is False
    singles = walk(client, lib, where, False, order, first=1)
    assert [p["edges"][0]["node"]["id"] for p in singles] == [e["node"]["id"] for e in at_once["edges"]]
    # Any edge's cursor resumes right after that edge.
    middle = at_once["edges"][4]
    rest = fetch_page(client, lib, where, False, first=100, after=middle["cursor"], o=order)
    assert [e["node"]["id"] for e in rest["edges"]] == [e["node"]["id"] for e in at_once["edges"][5:]]


def test_default_orders(client, lib) -> None:
    catalogue = client.data("{ videos(first: 100) { edges { node { id } } } }")["videos"]
    assert [e["node"]["id"] for e in catalogue["edges"]] == expected_order(
        lib.visible(False, False), "NEWEST"
    )
    category = client.data(
        "query($s: String!) { category(slug: $s) { videos(first: 100) { edges { node { id } } } } }",
        {"s": lib.shelf.slug},
    )["category"]["videos"]
    assert [e["node"]["id"] for e in category["edges"]] == expected_order(lib.visible(False, True), "POPULAR")


def test_default_page_size_is_twenty(client, factory) -> None:
    admin = factory.admin()
    category = factory.category()
    for n in range(25):
        factory.video(category, admin, title=f"part {n:02d}")
    page = client.data("{ videos { totalCount pageInfo { hasNextPage } edges { cursor } } }")["videos"]
    assert (len(page["edges"]), page["totalCount"], page["pageInfo"]["hasNextPage"]) == (20, 25, True)


def test_popular_ties_are_newest_first(client, factory) -> None:
    """The contract: POPULAR is view count descending, then newest. Creation times need not follow
    the ids (tools outside the server write the tables), so the id alone cannot break the tie."""
    admin = factory.admin()
    category = factory.category()
    oldest_first = [
        factory.video(category, admin, title=f"tie {n}", views=5, created_at=T + dt.timedelta(hours=3 - n))
        for n in range(3)
    ]
    query = "query($s: String!) { category(slug: $s) { videos(orderBy: POPULAR) { edges { node { id } } } } }"
    edges = client.data(query, {"s": category.slug})["category"]["videos"]["edges"]
    newest_first = [gid("Video", v) for v in oldest_first]  # created 3h, 2h, 1h after T
    assert [e["node"]["id"] for e in edges] == newest_first
    catalogue = client.data("{ videos(orderBy: POPULAR) { edges { node { id } } } }")["videos"]["edges"]
    assert [e["node"]["id"] for e in catalogue] == newest_first


def test_mixed_case_and_accented_titles_walk_consistently(client, factory) -> None:
    """Whatever the collation calls equal, the walk must agree with the single page."""
    admin = factory.admin()
    category = factory.category()
    titles = [
        "apple",
        "Apple",
        "APPLE",
        "apple ",
        "Äpple",
        "banana",
        "Banana",
        "apple pie",
        "zebra",
        "Zebra",
        "_under",
        "10 things",
        "9 things",
        "éclair",
        "Eclair",
    ]
    rows = [factory.video(category, admin, title=t) for t in titles]
    query = """query($after: String, $first: Int) { videos(first: $first, after: $after, orderBy: TITLE) {
      pageInfo { hasNextPage endCursor } edges { node { id } } } }"""
    at_once = [e["node"]["id"] for e in client.data(query, {"first": 100})["videos"]["edges"]]
    assert sorted(at_once) == sorted(gid("Video", r) for r in rows)
    for first in (1, 2, 4):
        seen: list[str] = []
        after = None
        for _ in range(len(titles) + 1):
            page = client.data(query, {"first": first, "after": after})["videos"]
            seen += [e["node"]["id"] for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert seen == at_once, first


def test_first_zero_gives_no_edges(client, lib) -> None:
    for where in ("catalogue", "category"):
        page = fetch_page(client, lib, where, False, first=0, o="POPULAR")
        assert page["edges"] == []
        assert page["pageInfo"]["startCursor"] is None
        assert page["pageInfo"]["endCursor"] is None
        assert page["pageInfo"]["hasPreviousPage"] is False
        assert page["pageInfo"]["hasNextPage"] is True  # there are videos after the empty page
        assert page["totalCount"] == len(lib.visible(False, category=where == "category"))


def test_empty_list_page_info(client, factory) -> None:
    category = factory.category()
    page = client.data(
        f"query($s: String!) {{ category(slug: $s) {{ videos {{ {PAGE_FIELDS} }} }} }}", {"s": category.slug}
    )["category"]["videos"]
    assert page == {
        "totalCount": 0,
        "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None},
        "edges": [],
    }


@pytest.mark.parametrize("where", ["catalogue", "category"])
@pytest.mark.parametrize("first", [-1, 101, 1000, -2147483648])
def test_first_out_of_range_is_bad_user_input(client, lib, where: str, first: int) -> None:
    query = CATEGORY_PAGE if where == "category" else CATALOGUE_PAGE
    body = client.post(
        query, {"slug": lib.shelf.slug, "first": first} if where == "category" else {"first": first}
    )
    assert body["errors"], body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body
    assert "first" in body["errors"][0]["message"]


def test_first_hundred_is_allowed(client, lib) -> None:
    page = fetch_page(client, lib, "catalogue", False, first=100)
    assert len(page["edges"]) == len(lib.visible(False, False))


def _bad_cursors(client, lib: Library, where: str) -> dict[str, str]:
    page = fetch_page(client, lib, where, False, first=3, o="NEWEST")
    good = page["pageInfo"]["endCursor"]
    middle = len(good) // 2
    flipped = good[:middle] + ("A" if good[middle] != "A" else "B") + good[middle + 1 :]
    return {
        "flipped": flipped,
        "truncated": good[:-2],
        "extended": good + "AA",
        "another order": fetch_page(client, lib, where, False, first=3, o="POPULAR")["pageInfo"]["endCursor"],
        "random": "hello world",
        "empty": "",
        "base64 junk": "eyJmb28iOiAiYmFyIn0",
        "non ascii": "curs\u00f6r",
        "padding only": "====",
    }


@pytest.mark.parametrize("where", ["catalogue", "category"])
def test_bad_cursors_are_bad_user_input(client, lib, where: str) -> None:
    query = CATEGORY_PAGE if where == "category" else CATALOGUE_PAGE
    for name, cursor in _bad_cursors(client, lib, where).items():
        variables = {"first": 3, "after": cursor, "o": "NEWEST"}
        if where == "category":
            variables["slug"] = lib.shelf.slug
        body = client.post(query, variables)
        assert body.get("errors"), (name, body)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], (name, body)
        assert "cursor" in body["errors"][0]["message"], (name, body)


def test_total_count_is_the_number_of_visible_videos(client, lib) -> None:
    catalogue = fetch_page(client, lib, "catalogue", False, first=1)
    assert catalogue["totalCount"] == 14 == len(lib.visible(False, False))
    admin = fetch_page(client, lib, "catalogue", True, first=1)
    assert admin["totalCount"] == 17 == len(lib.visible(True, False))
    shelf = fetch_page(client, lib, "category", False, first=1)
    assert shelf["totalCount"] == 12


def test_a_cursor_only_continues_the_list_that_issued_it(client, factory) -> None:
    admin = factory.admin()
    first, second = factory.category(), factory.category()
    for category in (first, second):
        for n in range(3):
            factory.video(category, admin, views=n)
    row = """query($s: String!, $a: String) {
      category(slug: $s) { videos(first: 1, after: $a) { pageInfo { endCursor } } } }"""
    cursor = client.data(row, {"s": first.slug})["category"]["videos"]["pageInfo"]["endCursor"]
    assert client.data(row, {"s": first.slug, "a": cursor})["category"]["videos"]["pageInfo"]["endCursor"]

    other_row = client.error(row, {"s": second.slug, "a": cursor})
    assert other_row["extensions"]["code"] == "BAD_USER_INPUT"
    assert "another list" in other_row["message"]
    catalogue = client.error(
        "query($a: String) { videos(orderBy: POPULAR, after: $a) { totalCount } }", {"a": cursor}
    )
    assert catalogue["extensions"]["code"] == "BAD_USER_INPUT"

    searched = """query($q: String, $a: String) {
      videos(first: 1, filter: {search: $q}, after: $a) { pageInfo { endCursor } } }"""
    from_search = client.data(searched, {"q": "Video"})["videos"]["pageInfo"]["endCursor"]
    assert client.error(searched, {"q": "other", "a": from_search})["extensions"]["code"] == "BAD_USER_INPUT"
