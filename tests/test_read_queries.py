"""Every Query field of the contract, read back with real values over HTTP."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from typing import Any

import pytest

from models import User, Video, VideoCategory, VideoProgress
from tests.factories import gid

# The contract's DateTime: ISO-8601, UTC with an explicit offset, always to the microsecond.
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$")
REACTION_TYPES = ["LIKE", "LOVE", "HAHA", "WOW", "SAD", "ANGRY"]

VIDEO_FIELDS = """
  id title description videoUrl thumbnailUrl captionUrl durationSeconds viewCount isHero published
  createdAt updatedAt
  category { id name slug sortOrder isActive videoCount }
  uploadedBy { id displayName role email createdAt }
  reactions { total counts { type count } viewerReaction }
  viewerProgress {
    id watchedSeconds durationSeconds lastPosition completed percentComplete updatedAt video { id }
  }
"""


def iso(value: dt.datetime) -> str:
    """How a naive-UTC database value must be written by the API."""
    return value.replace(tzinfo=dt.UTC).isoformat(timespec="microseconds")


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def counts(**nonzero: int) -> list[dict[str, Any]]:
    return [{"type": kind, "count": nonzero.get(kind.lower(), 0)} for kind in REACTION_TYPES]


def assert_refused_or_null(body: dict[str, Any], field: str) -> None:
    """A malformed argument is BAD_USER_INPUT (with the field null) or simply null: never a 500."""
    for error in body.get("errors") or []:
        assert error["extensions"]["code"] == "BAD_USER_INPUT", body
        assert "Traceback" not in error["message"] and "SELECT" not in error["message"].upper(), body
    assert body["data"] is None or body["data"][field] is None, body


def stamp(model: Any, row: Any, **values: dt.datetime) -> None:
    """Set timestamps directly (create() and save() would overwrite updated_at)."""
    model.update(**values).where(model.id == row.id).execute()


# --- node --------------------------------------------------------------------------------------


def test_node_resolves_every_node_type(client, factory) -> None:
    admin = factory.admin()
    member = factory.user(name="Mia")
    category = factory.category("Nature", sort_order=7)
    video = factory.video(category, admin, title="Wolves", views=3)
    progress = factory.progress(member, video, 150)
    token = factory.token(member)
    data = client.data(
        """query($u: ID!, $c: ID!, $v: ID!, $p: ID!) {
          user: node(id: $u) { __typename id ... on User { displayName role email } }
          category: node(id: $c) {
            __typename id ... on VideoCategory { name slug sortOrder isActive videoCount }
          }
          video: node(id: $v) { __typename id ... on Video { title viewCount category { slug } } }
          progress: node(id: $p) {
            __typename id ... on VideoProgress { watchedSeconds lastPosition video { id } }
          }
        }""",
        {
            "u": gid("User", member),
            "c": gid("VideoCategory", category),
            "v": gid("Video", video),
            "p": gid("VideoProgress", progress),
        },
        token=token,
    )
    assert data == {
        "user": {
            "__typename": "User",
            "id": gid("User", member),
            "displayName": "Mia",
            "role": "MEMBER",
            "email": member.email,
        },
        "category": {
            "__typename": "VideoCategory",
            "id": gid("VideoCategory", category),
            "name": "Nature",
            "slug": category.slug,
            "sortOrder": 7,
            "isActive": True,
            "videoCount": 1,
        },
        "video": {
            "__typename": "Video",
            "id": gid("Video", video),
            "title": "Wolves",
            "viewCount": 3,
            "category": {"slug": category.slug},
        },
        "progress": {
            "__typename": "VideoProgress",
            "id": gid("VideoProgress", progress),
            "watchedSeconds": 150,
            "lastPosition": 150,
            "video": {"id": gid("Video", video)},
        },
    }


def test_node_of_a_missing_row_is_null(client, factory) -> None:
    query = "query($id: ID!) { node(id: $id) { id } }"
    for kind in ("User", "VideoCategory", "Video", "VideoProgress"):
        body = client.post(query, {"id": b64(f"{kind}:987654")}, token=factory.token(factory.admin()))
        assert body == {"data": {"node": None}}, kind


def test_progress_node_belongs_to_its_owner(client, factory) -> None:
    admin = factory.admin()
    owner = factory.user()
    other = factory.user()
    video = factory.video(factory.category(), admin)
    progress = factory.progress(owner, video, 42)
    query = "query($id: ID!) { node(id: $id) { id ... on VideoProgress { lastPosition } } }"
    variables = {"id": gid("VideoProgress", progress)}
    mine = {"id": gid("VideoProgress", progress), "lastPosition": 42}
    assert client.data(query, variables, token=factory.token(owner))["node"] == mine
    assert client.data(query, variables, token=factory.token(admin))["node"] == mine
    assert client.data(query, variables, token=factory.token(other))["node"] is None
    assert client.data(query, variables)["node"] is None


# --- me ----------------------------------------------------------------------------------------


def test_me_is_the_signed_in_user_and_null_when_anonymous(client, factory) -> None:
    member = factory.user(name="Mia", email="mia@example.com")
    admin = factory.admin()
    with factory.bound():
        created = User.get_by_id(member.id).created_at
    query = "{ me { id displayName role email createdAt } }"
    assert client.data(query, token=factory.token(member))["me"] == {
        "id": gid("User", member),
        "displayName": "Mia",
        "role": "MEMBER",
        "email": "mia@example.com",
        "createdAt": iso(created),
    }
    assert client.data(query, token=factory.token(admin))["me"]["role"] == "ADMIN"
    assert client.data(query) == {"me": None}


# --- categories --------------------------------------------------------------------------------


@pytest.fixture
def shelves(factory) -> dict[str, VideoCategory]:
    """Categories whose sort orders tie, so the name decides; one inactive sorts first."""
    return {
        "beta": factory.category("Beta", sort_order=2),
        "zeta": factory.category("Zeta", sort_order=1),
        "alpha": factory.category("Alpha", sort_order=1),
        "mid": factory.category("Mid", sort_order=0),
        "hidden": factory.category("Aardvark", sort_order=0, active=False),
    }


def test_categories_are_ordered_by_sort_order_then_name(client, factory, shelves) -> None:
    query = "query($all: Boolean!) { categories(includeInactive: $all) { name sortOrder isActive } }"
    visible = [
        {"name": "Mid", "sortOrder": 0, "isActive": True},
        {"name": "Alpha", "sortOrder": 1, "isActive": True},
        {"name": "Zeta", "sortOrder": 1, "isActive": True},
        {"name": "Beta", "sortOrder": 2, "isActive": True},
    ]
    assert client.data("{ categories { name sortOrder isActive } }")["categories"] == visible
    admin = factory.token(factory.admin())
    member = factory.token(factory.user())
    assert client.data(query, {"all": False}, token=admin)["categories"] == visible
    assert client.data(query, {"all": True}, token=admin)["categories"] == [
        {"name": "Aardvark", "sortOrder": 0, "isActive": False},
        *visible,
    ]
    # Asking is not enough: only admins get the inactive ones.
    assert client.data(query, {"all": True}, token=member)["categories"] == visible
    assert client.data(query, {"all": True})["categories"] == visible


def test_category_by_slug(client, factory, shelves) -> None:
    admin = factory.admin()
    alpha = shelves["alpha"]
    factory.video(alpha, admin)
    factory.video(alpha, admin)
    query = "query($s: String!) { category(slug: $s) { id name slug sortOrder isActive videoCount } }"
    assert client.data(query, {"s": alpha.slug})["category"] == {
        "id": gid("VideoCategory", alpha),
        "name": "Alpha",
        "slug": alpha.slug,
        "sortOrder": 1,
        "isActive": True,
        "videoCount": 2,
    }
    assert client.data(query, {"s": "no-such-slug"})["category"] is None
    assert client.data(query, {"s": ""})["category"] is None


# --- video and every Video field ---------------------------------------------------------------


def test_video_returns_every_field(client, factory) -> None:
    uploader = factory.admin()
    viewer = factory.user()
    fans = [factory.user() for _ in range(4)]
    category = factory.category("Nature", sort_order=3)
    created = dt.datetime(2024, 5, 6, 7, 8, 9, 123456)
    updated = dt.datetime(2024, 6, 1, 12, 0, 0)  # .000000 must still be written out
    video = factory.video(
        category,
        uploader,
        title="Grey Wolves",
        views=1234,
        duration=600,
        created_at=created,
        description="A pack in winter.",
        thumbnail_url="https://img.example.com/wolves.jpg",
        caption_url="https://img.example.com/wolves.vtt",
        is_hero=True,
    )
    factory.reaction(viewer, video, "wow")
    factory.reaction(fans[0], video, "like")
    factory.reaction(fans[1], video, "like")
    factory.reaction(fans[2], video, "angry")
    progress = factory.progress(viewer, video, 150)
    with factory.bound():
        stamp(Video, video, updated_at=updated)
        progress_updated = dt.datetime(2024, 7, 1, 8, 30, 0, 5)
        stamp(VideoProgress, progress, updated_at=progress_updated)
        uploader_created = User.get_by_id(uploader.id).created_at

    data = client.data(
        f"query($id: ID!) {{ video(id: $id) {{ {VIDEO_FIELDS} }} }}",
        {"id": gid("Video", video)},
        token=factory.token(viewer),
    )
    assert data["video"] == {
        "id": gid("Video", video),
        "title": "Grey Wolves",
        "description": "A pack in winter.",
        "videoUrl": video.video_url,
        "thumbnailUrl": "https://img.example.com/wolves.jpg",
        "captionUrl": "https://img.example.com/wolves.vtt",
        "durationSeconds": 600,
        "viewCount": 1234,
        "isHero": True,
        "published": True,
        "createdAt": "2024-05-06T07:08:09.123456+00:00",
        "updatedAt": "2024-06-01T12:00:00.000000+00:00",
        "category": {
            "id": gid("VideoCategory", category),
            "name": "Nature",
            "slug": category.slug,
            "sortOrder": 3,
            "isActive": True,
            "videoCount": 1,
        },
        "uploadedBy": {
            "id": gid("User", uploader),
            "displayName": uploader.display_name,
            "role": "ADMIN",
            "email": None,  # not the viewer's own, and the viewer is no admin
            "createdAt": iso(uploader_created),
        },
        "reactions": {"total": 4, "counts": counts(like=2, wow=1, angry=1), "viewerReaction": "WOW"},
        "viewerProgress": {
            "id": gid("VideoProgress", progress),
            "watchedSeconds": 150,
            "durationSeconds": 600,
            "lastPosition": 150,
            "completed": False,
            "percentComplete": 0.25,
            "updatedAt": "2024-07-01T08:30:00.000005+00:00",
            "video": {"id": gid("Video", video)},
        },
    }
    for value in (data["video"]["createdAt"], data["video"]["uploadedBy"]["createdAt"]):
        assert ISO_UTC.match(value), value


def test_video_without_optional_values_reactions_or_progress(client, factory) -> None:
    admin = factory.admin()
    video = factory.video(factory.category(), admin, title="Bare", duration=90)
    query = (
        "query($id: ID!) { video(id: $id) { description thumbnailUrl captionUrl isHero"
        " reactions { total counts { type count } viewerReaction } viewerProgress { id } } }"
    )
    expected = {
        "description": None,
        "thumbnailUrl": None,
        "captionUrl": None,
        "isHero": False,
        "reactions": {"total": 0, "counts": counts(), "viewerReaction": None},
        "viewerProgress": None,
    }
    assert client.data(query, {"id": gid("Video", video)})["video"] == expected
    member = factory.token(factory.user())
    assert client.data(query, {"id": gid("Video", video)}, token=member)["video"] == expected


def test_anonymous_callers_have_no_viewer_reaction_or_progress(client, factory) -> None:
    admin = factory.admin()
    fan = factory.user()
    video = factory.video(factory.category(), admin)
    factory.reaction(fan, video, "love")
    factory.progress(fan, video, 99)
    data = client.data(
        "query($id: ID!) { video(id: $id) { reactions { total counts { type count } viewerReaction }"
        " viewerProgress { id } } }",
        {"id": gid("Video", video)},
    )
    assert data["video"] == {
        "reactions": {"total": 1, "counts": counts(love=1), "viewerReaction": None},
        "viewerProgress": None,
    }


def test_timestamps_are_utc_with_offset_and_microseconds(client, factory) -> None:
    admin = factory.admin()
    created = dt.datetime(2023, 12, 31, 23, 59, 59, 999999)
    video = factory.video(factory.category(), admin, created_at=created)
    with factory.bound():
        row = Video.get_by_id(video.id)
    data = client.data(
        "query($id: ID!) { video(id: $id) { createdAt updatedAt } }", {"id": gid("Video", video)}
    )["video"]
    assert data["createdAt"] == "2023-12-31T23:59:59.999999+00:00"
    assert data["updatedAt"] == iso(row.updated_at)
    assert ISO_UTC.match(data["updatedAt"]), data
    # Parsing the value back gives exactly the stored instant.
    assert dt.datetime.fromisoformat(data["createdAt"]) == created.replace(tzinfo=dt.UTC)


def test_video_of_a_missing_id_is_null(client, factory) -> None:
    body = client.post("query($id: ID!) { video(id: $id) { id } }", {"id": b64("Video:987654")})
    assert body == {"data": {"video": None}}


GARBAGE_IDS = [
    "garbage",
    "!!!",
    "",
    "Vidéo",
    b64("Video:abc"),
    b64("Video:"),
    b64("Video:0"),
    b64("Video:-5"),
    b64("Video:1.5"),
    b64("Video:99999999999999999999999999"),
    b64("Nope"),
    b64("\x00\xff"),
    "VmlkZW86MQ",  # base64 without its padding
]


@pytest.mark.parametrize("value", GARBAGE_IDS)
def test_garbage_ids_are_refused_not_crashed_on(client, factory, value: str) -> None:
    factory.video(factory.category(), factory.admin())
    for query, field in (
        ("query($id: ID!) { video(id: $id) { id title } }", "video"),
        ("query($id: ID!) { node(id: $id) { id } }", "node"),
    ):
        assert_refused_or_null(client.post(query, {"id": value}), field)
    # As a literal in the document too.
    literal = json.dumps(value)
    assert_refused_or_null(client.post(f"{{ video(id: {literal}) {{ id }} }}"), "video")
    assert_refused_or_null(client.post(f"{{ node(id: {literal}) {{ id }} }}"), "node")


def test_garbage_ids_named_in_the_contract_are_bad_user_input(client, factory) -> None:
    for value in ("garbage", "!!!", b64("Video:abc")):
        error = client.error("query($id: ID!) { video(id: $id) { id } }", {"id": value})
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert "ID" in error["message"], error


def test_an_id_of_another_type_is_not_a_video(client, factory) -> None:
    admin = factory.admin()
    video = factory.video(factory.category(), admin)
    # A User whose pk equals the video's: it must not be read as that video.
    for other in (gid("User", admin), b64(f"User:{video.id}"), b64(f"VideoCategory:{video.id}")):
        body = client.post("query($id: ID!) { video(id: $id) { id title } }", {"id": other})
        assert_refused_or_null(body, "video")
    error = client.error("query($id: ID!) { video(id: $id) { id } }", {"id": gid("User", admin)})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_node_of_an_unknown_type_is_null(client, factory) -> None:
    """Well-formed, but of no Node type: nothing has that id, so null (not an error)."""
    factory.video(factory.category(), factory.admin())
    for value in (b64("Comment:1"), b64("PageInfo:1"), b64("video:1")):
        body = client.post("query($id: ID!) { node(id: $id) { id } }", {"id": value})
        assert body == {"data": {"node": None}}


# --- heroVideo ---------------------------------------------------------------------------------


def test_hero_video_is_the_published_hero(client, factory) -> None:
    admin = factory.admin()
    category = factory.category()
    factory.video(category, admin, title="Ordinary", views=100)
    hero = factory.video(category, admin, title="Big Night", is_hero=True)
    data = client.data("{ heroVideo { id title isHero published category { id } } }")
    assert data["heroVideo"] == {
        "id": gid("Video", hero),
        "title": "Big Night",
        "isHero": True,
        "published": True,
        "category": {"id": gid("VideoCategory", category)},
    }


def test_hero_video_is_null_without_a_hero(client, factory) -> None:
    factory.video(factory.category(), factory.admin(), title="Ordinary")
    assert client.data("{ heroVideo { id } }") == {"heroVideo": None}
    assert client.data("{ heroVideo { id } }", token=factory.token(factory.admin())) == {"heroVideo": None}


# --- videos ------------------------------------------------------------------------------------


@pytest.fixture
def library(factory) -> dict[str, Any]:
    admin = factory.admin()
    nature = factory.category("Nature")
    food = factory.category("Food")
    base = dt.datetime(2024, 1, 1, 12, 0, 0)
    rows = {
        "wolves": factory.video(
            nature, admin, title="Grey Wolves", description="A pack in winter", created_at=base
        ),
        "foxes": factory.video(
            nature,
            admin,
            title="Snow Dwellers",
            description="Arctic FOXES hunting",
            created_at=base + dt.timedelta(minutes=1),
        ),
        "bread": factory.video(
            food, admin, title="Sourdough Bread", description=None, created_at=base + dt.timedelta(minutes=2)
        ),
        "wolf_food": factory.video(
            food,
            admin,
            title="What Wolves Eat",
            description="diet",
            created_at=base + dt.timedelta(minutes=3),
        ),
        "draft": factory.video(
            nature,
            admin,
            title="Wolves (draft cut)",
            published=False,
            created_at=base + dt.timedelta(minutes=4),
        ),
    }
    return {"admin": admin, "nature": nature, "food": food, **rows}


VIDEOS_QUERY = """query($f: VideoFilter) {
  videos(filter: $f) { totalCount edges { node { id title } } }
}"""


def ids_of(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


def test_videos_default_lists_visible_videos_newest_first(client, library) -> None:
    videos = client.data(VIDEOS_QUERY)["videos"]
    expected = [gid("Video", library[k]) for k in ("wolf_food", "bread", "foxes", "wolves")]
    assert ids_of(videos) == expected
    assert videos["totalCount"] == 4


def test_videos_filter_by_category_slug(client, library) -> None:
    videos = client.data(VIDEOS_QUERY, {"f": {"categorySlug": library["food"].slug}})["videos"]
    assert ids_of(videos) == [gid("Video", library["wolf_food"]), gid("Video", library["bread"])]
    assert videos["totalCount"] == 2
    empty = client.data(VIDEOS_QUERY, {"f": {"categorySlug": "no-such-shelf"}})["videos"]
    assert empty == {"totalCount": 0, "edges": []}


def test_videos_search_is_case_insensitive_on_title_and_description(client, library) -> None:
    def found(term: str, **extra: Any) -> list[str]:
        videos = client.data(VIDEOS_QUERY, {"f": {"search": term, **extra}})["videos"]
        assert videos["totalCount"] == len(videos["edges"]), videos
        return ids_of(videos)

    wolves = [gid("Video", library["wolf_food"]), gid("Video", library["wolves"])]
    assert found("wolves") == wolves
    assert found("WOLVES") == wolves
    assert found("gREY wOLVES") == [gid("Video", library["wolves"])]
    assert found("arctic foxes") == [gid("Video", library["foxes"])]  # description only
    assert found("PACK IN") == [gid("Video", library["wolves"])]
    assert found("  wolves  ") == wolves  # surrounding blanks are not part of the term
    assert found("wolves", categorySlug=library["food"].slug) == [gid("Video", library["wolf_food"])]
    assert found("nothing like this") == []


def test_videos_filter_published_true(client, factory, library) -> None:
    videos = client.data(VIDEOS_QUERY, {"f": {"published": True}})["videos"]
    assert videos["totalCount"] == 4
    admin_view = client.data(VIDEOS_QUERY, {"f": {"published": True}}, token=factory.token(library["admin"]))
    assert gid("Video", library["draft"]) not in ids_of(admin_view["videos"])
    assert admin_view["videos"]["totalCount"] == 4


def test_search_wildcards_are_literal(client, factory) -> None:
    admin = factory.admin()
    category = factory.category()
    titles = [
        "100% Juice",
        "1000 Juices",
        "snake_case tips",
        "snakeXcase tips",
        "Wow! Amazing",
        "Wow Amazing",
        "back\\slash",
        "backslash",
    ]
    for title in titles:
        factory.video(category, admin, title=title)

    def found(term: str) -> set[str]:
        edges = client.data(
            "query($s: String) { videos(first: 100, filter: {search: $s}) { edges { node { title } } } }",
            {"s": term},
        )["videos"]["edges"]
        return {edge["node"]["title"] for edge in edges}

    assert found("0%") == {"100% Juice"}
    assert found("%") == {"100% Juice"}
    assert found("e_c") == {"snake_case tips"}
    assert found("_") == {"snake_case tips"}
    assert found("w!") == {"Wow! Amazing"}
    assert found("!") == {"Wow! Amazing"}
    assert found("k\\s") == {"back\\slash"}
    assert found("%%") == set()
    assert found("__") == set()


def test_search_folds_case_beyond_ascii(client, factory) -> None:
    admin = factory.admin()
    video = factory.video(factory.category(), admin, title="Éclairs at Dawn", description="Crème pâtissière")
    query = "query($s: String) { videos(filter: {search: $s}) { edges { node { id } } } }"
    for term in ("Éclairs", "éclairs", "ÉCLAIRS", "CRÈME PÂTISSIÈRE"):
        edges = client.data(query, {"s": term})["videos"]["edges"]
        assert edges == [{"node": {"id": gid("Video", video)}}], term


def test_search_too_long_is_bad_user_input(client, factory) -> None:
    error = client.error('{ videos(filter: {search: "%s"}) { totalCount } }' % ("x" * 201))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "200" in error["message"]


def test_search_with_a_nul_is_bad_user_input(client, factory) -> None:
    """SQLite's LIKE would stop at the NUL and match every video; MySQL's would match none."""
    factory.video(factory.category(), factory.admin(), title="Anything")
    query = "query($s: String!) { videos(filter: {search: $s}) { totalCount } }"
    body = client.post(query, {"s": "a\u0000b"})
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "NUL" in error["message"]


# --- continueWatching --------------------------------------------------------------------------


@pytest.fixture
def watching(factory) -> dict[str, Any]:
    admin = factory.admin()
    viewer = factory.user()
    other = factory.user()
    category = factory.category()
    videos = [factory.video(category, admin, title=f"Episode {n}", duration=600) for n in range(6)]
    t0 = dt.datetime(2024, 3, 1, 9, 0, 0)
    early = factory.progress(viewer, videos[0], 30)
    latest = factory.progress(viewer, videos[1], 100)
    middle = factory.progress(viewer, videos[2], 50)
    unstarted = factory.progress(viewer, videos[3], 0)
    finished = factory.progress(viewer, videos[4], 590, completed=True)
    rewound = factory.progress(viewer, videos[5], 200)  # watched, then rewound to the start
    theirs = factory.progress(other, videos[0], 300)
    with factory.bound():
        for row, minutes in (
            (early, 1),
            (latest, 30),
            (middle, 10),
            (unstarted, 40),
            (finished, 50),
            (rewound, 60),
            (theirs, 70),
        ):
            stamp(VideoProgress, row, updated_at=t0 + dt.timedelta(minutes=minutes))
        VideoProgress.update(last_position=0).where(VideoProgress.id == rewound.id).execute()
    return {"viewer": viewer, "videos": videos, "early": early, "latest": latest, "middle": middle}


CONTINUE = """query($n: Int) {
  continueWatching(first: $n) { id lastPosition completed video { id title } }
}"""


def test_continue_watching_lists_unfinished_videos_most_recent_first(client, factory, watching) -> None:
    token = factory.token(watching["viewer"])
    rows = client.data(CONTINUE, token=token)["continueWatching"]
    expected = [watching[k] for k in ("latest", "middle", "early")]
    assert [row["id"] for row in rows] == [gid("VideoProgress", p) for p in expected]
    assert [row["lastPosition"] for row in rows] == [100, 50, 30]
    assert all(row["completed"] is False for row in rows)
    videos = watching["videos"]
    assert [row["video"]["id"] for row in rows] == [gid("Video", videos[n]) for n in (1, 2, 0)]


def test_continue_watching_first(client, factory, watching) -> None:
    token = factory.token(watching["viewer"])
    two = client.data(CONTINUE, {"n": 2}, token=token)["continueWatching"]
    assert [row["lastPosition"] for row in two] == [100, 50]
    assert client.data(CONTINUE, {"n": 0}, token=token)["continueWatching"] == []
    assert len(client.data(CONTINUE, {"n": 50}, token=token)["continueWatching"]) == 3
    for bad in (-1, 51, 1000):
        error = client.error(CONTINUE, {"n": bad}, token=token)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", bad
        assert "50" in error["message"]


def test_continue_watching_is_empty_when_anonymous(client, factory, watching) -> None:
    assert client.data(CONTINUE) == {"continueWatching": []}
    assert client.data(CONTINUE, {"n": 50}) == {"continueWatching": []}


def test_continue_watching_limit_of_fifty(client, factory) -> None:
    admin = factory.admin()
    viewer = factory.user()
    category = factory.category()
    for n in range(52):
        factory.progress(viewer, factory.video(category, admin, title=f"Part {n}"), n + 1)
    rows = client.data(CONTINUE, {"n": 50}, token=factory.token(viewer))["continueWatching"]
    assert len(rows) == 50
    assert len(client.data(CONTINUE, token=factory.token(viewer))["continueWatching"]) == 10


# --- VideoProgress fields ----------------------------------------------------------------------


def test_video_progress_fields(client, factory) -> None:
    admin = factory.admin()
    viewer = factory.user()
    category = factory.category()
    half = factory.video(category, admin, duration=600)
    done = factory.video(category, admin, duration=400)
    shrunk = factory.video(category, admin, duration=500)
    p_half = factory.progress(viewer, half, 150)
    p_done = factory.progress(viewer, done, 400, completed=True)
    p_over = factory.progress(viewer, shrunk, 700)  # saved when the video was longer
    moment = dt.datetime(2024, 2, 29, 23, 0, 0, 250000)
    with factory.bound():
        VideoProgress.update(last_position=120, updated_at=moment).where(
            VideoProgress.id == p_half.id
        ).execute()
        VideoProgress.update(duration_seconds=500).where(VideoProgress.id == p_over.id).execute()
    query = """query($id: ID!) { node(id: $id) { ... on VideoProgress {
      id watchedSeconds durationSeconds lastPosition completed percentComplete updatedAt video { id }
    } } }"""
    token = factory.token(viewer)
    assert client.data(query, {"id": gid("VideoProgress", p_half)}, token=token)["node"] == {
        "id": gid("VideoProgress", p_half),
        "watchedSeconds": 150,
        "durationSeconds": 600,
        "lastPosition": 120,
        "completed": False,
        "percentComplete": 0.25,
        "updatedAt": "2024-02-29T23:00:00.250000+00:00",
        "video": {"id": gid("Video", half)},
    }
    finished = client.data(query, {"id": gid("VideoProgress", p_done)}, token=token)["node"]
    assert finished["completed"] is True
    assert finished["percentComplete"] == 1.0
    assert (
        client.data(query, {"id": gid("VideoProgress", p_over)}, token=token)["node"]["percentComplete"]
        == 1.0
    )


# --- User.email --------------------------------------------------------------------------------


def test_user_email_is_visible_to_the_user_and_admins_only(client, factory) -> None:
    uploader = factory.user(email="uploader@example.com")
    member = factory.user()
    admin = factory.admin()
    video = factory.video(factory.category(), uploader)
    query = """query($u: ID!, $v: ID!) {
      node(id: $u) { ... on User { email } }
      video(id: $v) { uploadedBy { email } }
    }"""
    variables = {"u": gid("User", uploader), "v": gid("Video", video)}
    hidden = {"node": {"email": None}, "video": {"uploadedBy": {"email": None}}}
    shown = {
        "node": {"email": "uploader@example.com"},
        "video": {"uploadedBy": {"email": "uploader@example.com"}},
    }
    assert client.data(query, variables) == hidden
    assert client.data(query, variables, token=factory.token(member)) == hidden
    assert client.data(query, variables, token=factory.token(uploader)) == shown
    assert client.data(query, variables, token=factory.token(admin)) == shown


# --- HTTP --------------------------------------------------------------------------------------


def test_get_answers_queries(client, factory) -> None:
    category = factory.category("Nature")
    response = client.http.get("/graphql", params={"query": "{ categories { name } }"})
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"categories": [{"name": "Nature"}]}}
    response = client.http.get(
        "/graphql",
        params={
            "query": "query($s: String!) { category(slug: $s) { name } }",
            "variables": json.dumps({"s": category.slug}),
        },
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"category": {"name": "Nature"}}}


def test_get_refuses_mutations(client, factory) -> None:
    user = factory.user()
    token = factory.token(user)
    response = client.http.get(
        "/graphql", params={"query": "mutation { logout }"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == "POST"
    [error] = response.json()["errors"]
    assert "GET" in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    # Nothing was done: the token still works.
    assert client.data("{ me { id } }", token=token) == {"me": {"id": gid("User", user)}}


def test_get_in_a_browser_serves_graphiql(client) -> None:
    response = client.http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


def test_unknown_field_is_bad_user_input(client) -> None:
    body = client.post("{ videos { edges { node { id nope } } } }")
    assert "data" not in body  # a request error: nothing ran
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "nope" in error["message"]


def test_syntax_error_is_bad_user_input(client) -> None:
    body = client.post("{ videos { ")
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
