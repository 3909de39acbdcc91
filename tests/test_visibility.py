"""The contract's visibility rule on every read path, for anonymous callers, members and admins.

Members and anonymous callers never see drafts, inactive categories, or the published videos of
an inactive category; admins see everything. Every path is asked about the same catalogue.
"""

from __future__ import annotations

from typing import Any

import pytest

from models import AccessToken, User, Video
from tests.factories import gid

ROLES = ("anonymous", "member", "admin")


class Catalogue:
    """Active shelf: two published videos and a draft. Inactive shelf: one published, one draft.

    Progress on all four is the caller's (or, for an anonymous caller, some member's).
    """

    def __init__(self, factory: Any, role: str) -> None:
        self.role = role
        uploader = factory.admin()
        self.active = factory.category("Open", sort_order=1)
        self.inactive = factory.category("Closed", sort_order=0, active=False)
        self.pub_a = factory.video(self.active, uploader, title="Open Published A", views=20)
        self.pub_b = factory.video(self.active, uploader, title="Open Published B", views=10)
        self.draft_a = factory.video(self.active, uploader, title="Open Draft", published=False, views=30)
        self.pub_i = factory.video(self.inactive, uploader, title="Closed Published", views=40)
        self.draft_i = factory.video(self.inactive, uploader, title="Closed Draft", published=False, views=50)
        self.user = None if role == "anonymous" else (factory.admin() if role == "admin" else factory.user())
        self.token = factory.token(self.user) if self.user is not None else None
        watcher = self.user or factory.user()
        self.progress = {
            video.id: factory.progress(watcher, video, 10 * n)
            for n, video in enumerate((self.pub_a, self.draft_a, self.pub_i, self.draft_i), start=1)
        }

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def visible(self, *videos: Video) -> list[str]:
        """Global IDs of those of `videos` this caller may see, in the order given."""
        return [
            gid("Video", v)
            for v in videos
            if self.is_admin or (v.published and v.category_id == self.active.id)
        ]


@pytest.fixture(params=ROLES)
def cat(request: pytest.FixtureRequest, factory: Any) -> Catalogue:
    return Catalogue(factory, str(request.param))


def node_ids(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


def test_categories_list(client, cat: Catalogue) -> None:
    query = """query($all: Boolean!) { categories(includeInactive: $all) {
      id videoCount videos(first: 10) { totalCount edges { node { id } } } } }"""
    shown = client.data(query, {"all": True}, token=cat.token)["categories"]
    active_count = 3 if cat.is_admin else 2
    open_shelf = {
        "id": gid("VideoCategory", cat.active),
        "videoCount": active_count,
        "videos": {
            "totalCount": active_count,
            "edges": [{"node": {"id": i}} for i in cat.visible(cat.draft_a, cat.pub_a, cat.pub_b)],
        },
    }
    if cat.is_admin:
        closed_shelf = {
            "id": gid("VideoCategory", cat.inactive),
            "videoCount": 2,
            "videos": {
                "totalCount": 2,
                "edges": [{"node": {"id": i}} for i in cat.visible(cat.draft_i, cat.pub_i)],
            },
        }
        assert shown == [closed_shelf, open_shelf]
    else:
        assert shown == [open_shelf]
    # Without includeInactive, inactive categories stay out for admins too.
    assert client.data(query, {"all": False}, token=cat.token)["categories"] == [open_shelf]


def test_category_by_slug(client, cat: Catalogue) -> None:
    query = """query($s: String!) { category(slug: $s) {
      id isActive videoCount videos { totalCount edges { node { id } } } } }"""
    closed = client.data(query, {"s": cat.inactive.slug}, token=cat.token)["category"]
    if cat.is_admin:
        assert closed == {
            "id": gid("VideoCategory", cat.inactive),
            "isActive": False,
            "videoCount": 2,
            "videos": {
                "totalCount": 2,
                "edges": [{"node": {"id": gid("Video", v)}} for v in (cat.draft_i, cat.pub_i)],
            },
        }
    else:
        assert closed is None
    opened = client.data(query, {"s": cat.active.slug}, token=cat.token)["category"]
    expected = cat.visible(cat.draft_a, cat.pub_a, cat.pub_b)
    assert opened["videoCount"] == len(expected)
    assert opened["videos"]["totalCount"] == len(expected)
    assert node_ids(opened["videos"]) == expected


def test_query_videos(client, cat: Catalogue) -> None:
    query = """query($f: VideoFilter) {
      videos(first: 50, orderBy: POPULAR, filter: $f) { totalCount edges { node { id } } } }"""
    everything = cat.visible(cat.draft_i, cat.pub_i, cat.draft_a, cat.pub_a, cat.pub_b)
    videos = client.data(query, token=cat.token)["videos"]
    assert node_ids(videos) == everything
    assert videos["totalCount"] == len(everything) == (5 if cat.is_admin else 2)

    closed = client.data(query, {"f": {"categorySlug": cat.inactive.slug}}, token=cat.token)["videos"]
    assert node_ids(closed) == cat.visible(cat.draft_i, cat.pub_i)
    assert closed["totalCount"] == (2 if cat.is_admin else 0)

    drafts_by_title = client.data(query, {"f": {"search": "draft"}}, token=cat.token)["videos"]
    assert node_ids(drafts_by_title) == cat.visible(cat.draft_i, cat.draft_a)
    assert drafts_by_title["totalCount"] == (2 if cat.is_admin else 0)

    published = client.data(query, {"f": {"published": True}}, token=cat.token)["videos"]
    assert node_ids(published) == cat.visible(cat.pub_i, cat.pub_a, cat.pub_b)


def test_filter_unpublished_is_for_admins_only(client, cat: Catalogue) -> None:
    query = "{ videos(filter: {published: false}) { totalCount edges { node { id published } } } }"
    if cat.is_admin:
        videos = client.data(query, token=cat.token)["videos"]
        assert videos["totalCount"] == 2
        assert videos["edges"] == [
            {"node": {"id": gid("Video", v), "published": False}} for v in (cat.draft_i, cat.draft_a)
        ]
    else:
        body = client.post(query, token=cat.token)
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
        assert "admin" in body["errors"][0]["message"]


def test_a_categorys_videos_by_every_order_and_page(client, cat: Catalogue) -> None:
    query = """query($s: String!, $o: VideoOrder, $after: String) { category(slug: $s) {
      videos(first: 1, orderBy: $o, after: $after) { totalCount pageInfo { hasNextPage endCursor }
        edges { node { id } } } } }"""
    expected = set(cat.visible(cat.pub_a, cat.pub_b, cat.draft_a))
    for order in ("POPULAR", "NEWEST", "TITLE"):
        seen: list[str] = []
        after = None
        while True:
            videos = client.data(query, {"s": cat.active.slug, "o": order, "after": after}, token=cat.token)[
                "category"
            ]["videos"]
            assert videos["totalCount"] == len(expected)
            seen += node_ids(videos)
            if not videos["pageInfo"]["hasNextPage"]:
                break
            after = videos["pageInfo"]["endCursor"]
        assert sorted(seen) == sorted(expected), order


def test_node_and_video_by_id(client, cat: Catalogue) -> None:
    query = """query($id: ID!) { video(id: $id) { id } node(id: $id) { id } }"""
    for video in (cat.pub_a, cat.pub_b, cat.draft_a, cat.pub_i, cat.draft_i):
        data = client.data(query, {"id": gid("Video", video)}, token=cat.token)
        if cat.visible(video):
            assert data == {"video": {"id": gid("Video", video)}, "node": {"id": gid("Video", video)}}, (
                video.title
            )
        else:
            assert data == {"video": None, "node": None}, video.title


def test_category_node(client, cat: Catalogue) -> None:
    query = "query($id: ID!) { node(id: $id) { id ... on VideoCategory { videoCount } } }"
    closed = client.data(query, {"id": gid("VideoCategory", cat.inactive)}, token=cat.token)["node"]
    assert closed == ({"id": gid("VideoCategory", cat.inactive), "videoCount": 2} if cat.is_admin else None)
    opened = client.data(query, {"id": gid("VideoCategory", cat.active)}, token=cat.token)["node"]
    assert opened == {"id": gid("VideoCategory", cat.active), "videoCount": 3 if cat.is_admin else 2}


def test_progress_node_of_a_hidden_video(client, cat: Catalogue) -> None:
    query = "query($id: ID!) { node(id: $id) { id } }"
    for video in (cat.pub_a, cat.draft_a, cat.pub_i, cat.draft_i):
        pid = gid("VideoProgress", cat.progress[video.id])
        node = client.data(query, {"id": pid}, token=cat.token)["node"]
        mine = cat.user is not None and cat.visible(video)
        assert node == ({"id": pid} if mine else None), video.title


def test_continue_watching(client, cat: Catalogue) -> None:
    rows = client.data("{ continueWatching(first: 50) { video { id } } }", token=cat.token)[
        "continueWatching"
    ]
    if cat.user is None:
        assert rows == []
        return
    # Most recently saved first: the progress rows were written in this order.
    expected = cat.visible(cat.draft_i, cat.pub_i, cat.draft_a, cat.pub_a)
    assert sorted(r["video"]["id"] for r in rows) == sorted(expected)
    assert len(rows) == (4 if cat.is_admin else 1)


def test_continue_watching_nested_counts(client, cat: Catalogue) -> None:
    rows = client.data("{ continueWatching { video { id category { id videoCount } } } }", token=cat.token)[
        "continueWatching"
    ]
    counts = {row["video"]["category"]["id"]: row["video"]["category"]["videoCount"] for row in rows}
    if cat.user is None:
        assert counts == {}
    elif cat.is_admin:
        assert counts == {gid("VideoCategory", cat.active): 3, gid("VideoCategory", cat.inactive): 2}
    else:
        assert counts == {gid("VideoCategory", cat.active): 2}


@pytest.mark.parametrize("case", ["draft", "inactive", "visible"])
def test_hero_video(client, factory, case: str) -> None:
    uploader = factory.admin()
    category = factory.category(active=case != "inactive")
    hero = factory.video(category, uploader, title="Hero", is_hero=True, published=case != "draft")
    member = factory.token(factory.user())
    admin = factory.token(factory.admin())
    query = "{ heroVideo { id } }"
    shown = {"heroVideo": {"id": gid("Video", hero)}}
    hidden = {"heroVideo": None}
    assert client.data(query) == (shown if case == "visible" else hidden)
    assert client.data(query, token=member) == (shown if case == "visible" else hidden)
    # "The published hero video, if any (for admins too)": a draft hero is no hero, even for admins;
    # resolvers/videos.py hero() shows admins a published hero whose category is inactive.
    assert client.data(query, token=admin) == (hidden if case == "draft" else shown)


def test_hidden_hero_does_not_hide_behind_a_visible_one(client, factory) -> None:
    """Only one hero is expected, but a stale flag on a hidden video must never leak it."""
    uploader = factory.admin()
    hero = factory.video(factory.category(), uploader, title="Public Hero", is_hero=True)
    factory.video(factory.category(active=False), uploader, title="Hidden Hero", is_hero=True)
    factory.video(factory.category(), uploader, title="Draft Hero", is_hero=True, published=False)
    member = factory.token(factory.user())
    assert client.data("{ heroVideo { id } }", token=member) == {"heroVideo": {"id": gid("Video", hero)}}
    assert client.data("{ heroVideo { id } }") == {"heroVideo": {"id": gid("Video", hero)}}


# --- tokens ------------------------------------------------------------------------------------


def _unauthenticated(body: dict[str, Any]) -> None:
    assert "data" not in body, body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"], body
    assert "log in" in body["errors"][0]["message"] or "Bearer" in body["errors"][0]["message"]


def _bad_tokens(factory: Any) -> dict[str, str]:
    user = factory.admin()
    revoked = factory.token(user)
    with factory.bound():
        AccessToken.delete().where(AccessToken.user == user.id).execute()
    gone = factory.user()
    orphan = factory.token(gone)
    with factory.bound():
        User.delete().where(User.id == gone.id).execute()  # its tokens go with it
    return {
        "expired": factory.token(factory.admin(), ttl=-10),
        "revoked": revoked,
        "deleted user": orphan,
        "made up": "vl_" + "A" * 43,
        "not ours": "eyJhbGciOiJIUzI1NiJ9.e30.abc",
        "empty bearer": "",
    }


QUERIES_FOR_BAD_TOKENS = [
    "{ me { id } }",
    "{ categories { id } }",
    "{ videos { totalCount } }",
    "{ heroVideo { id } }",
    "{ continueWatching { id } }",
]


@pytest.mark.parametrize("query", QUERIES_FOR_BAD_TOKENS)
def test_bad_tokens_are_unauthenticated_never_anonymous(client, factory, query: str) -> None:
    uploader = factory.admin()
    factory.video(factory.category(), uploader, is_hero=True)
    for name, token in _bad_tokens(factory).items():
        if not token:
            response = client.http.post(
                "/graphql", json={"query": query}, headers={"Authorization": "Bearer "}
            )
        else:
            response = client.http.post(
                "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
            )
        assert response.status_code in (200, 401), (name, response.text)
        _unauthenticated(response.json())


def test_malformed_authorization_headers_are_unauthenticated(client, factory) -> None:
    token = factory.token(factory.user())
    for header in (f"Basic {token}", f"Token {token}", "Bearer", f"Bearer {token} extra"):
        response = client.http.post(
            "/graphql", json={"query": "{ videos { totalCount } }"}, headers={"Authorization": header}
        )
        assert response.status_code in (200, 401), (header, response.text)
        _unauthenticated(response.json())


def test_a_revoked_token_stops_working_at_once(client, factory) -> None:
    user = factory.user()
    token = factory.token(user)
    assert client.data("{ me { id } }", token=token) == {"me": {"id": gid("User", user)}}
    with factory.bound():
        AccessToken.delete().where(AccessToken.user == user.id).execute()
    _unauthenticated(client.post("{ me { id } }", token=token))


def test_demotion_applies_on_the_next_request(client, factory) -> None:
    uploader = factory.admin()
    shelf = factory.category("Alpha")
    closed = factory.category("Beta", active=False)
    draft = factory.video(shelf, uploader, title="Draft", published=False)
    factory.video(shelf, uploader, title="Published")
    factory.video(closed, uploader, title="Closed")
    boss = factory.admin()
    token = factory.token(boss)
    query = """query($id: ID!) {
      me { role } video(id: $id) { id } videos { totalCount }
      categories(includeInactive: true) { id }
    }"""
    before = client.data(query, {"id": gid("Video", draft)}, token=token)
    assert before == {
        "me": {"role": "ADMIN"},
        "video": {"id": gid("Video", draft)},
        "videos": {"totalCount": 3},
        "categories": [{"id": gid("VideoCategory", shelf)}, {"id": gid("VideoCategory", closed)}],
    }
    with factory.bound():
        User.update(role="member").where(User.id == boss.id).execute()
    after = client.data(query, {"id": gid("Video", draft)}, token=token)
    assert after == {
        "me": {"role": "MEMBER"},
        "video": None,
        "videos": {"totalCount": 1},
        "categories": [{"id": gid("VideoCategory", shelf)}],
    }
    error = client.error("{ videos(filter: {published: false}) { totalCount } }", token=token)
    assert error["extensions"]["code"] == "FORBIDDEN"
