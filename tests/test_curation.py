"""Admin curation of categories and videos, over HTTP on both backends."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx2 as httpx
import pytest
from playhouse.test_utils import count_queries

from models import User, Video, VideoCategory, VideoProgress, VideoReaction, utcnow
from resolvers.curation.validation import MAX_DURATION_SECONDS
from schema.ids import global_id
from tests.factories import gid
from tests.live_server import live_server

CATEGORY_FIELDS = "id name slug sortOrder isActive videoCount"
VIDEO_FIELDS = """id title description videoUrl thumbnailUrl captionUrl durationSeconds viewCount isHero
published category { id } uploadedBy { id } reactions { total } viewerProgress { lastPosition }"""

CREATE_CATEGORY = f"""
mutation($input: CreateCategoryInput!) {{ createCategory(input: $input) {{ {CATEGORY_FIELDS} }} }}"""
UPDATE_CATEGORY = f"""
mutation($id: ID!, $input: UpdateCategoryInput!) {{
  updateCategory(id: $id, input: $input) {{ {CATEGORY_FIELDS} }}
}}"""
DELETE_CATEGORY = "mutation($id: ID!) { deleteCategory(id: $id) { deletedId } }"
CREATE_VIDEO = f"""
mutation($input: CreateVideoInput!) {{ createVideo(input: $input) {{ {VIDEO_FIELDS} }} }}"""
UPDATE_VIDEO = f"""
mutation($id: ID!, $input: UpdateVideoInput!) {{
  updateVideo(id: $id, input: $input) {{ {VIDEO_FIELDS} }}
}}"""
DELETE_VIDEO = "mutation($id: ID!) { deleteVideo(id: $id) { deletedId } }"

TABLES = (VideoCategory, Video, VideoProgress, VideoReaction)


def snapshot(factory: Any) -> dict[str, list[tuple]]:
    """Every row of the tables curation writes, to prove a refused mutation changed nothing."""
    with factory.bound():
        return {m._meta.table_name: list(m.select().order_by(m.id).tuples()) for m in TABLES}


def category_row(factory: Any, pk: int) -> VideoCategory | None:
    with factory.bound():
        return VideoCategory.get_or_none(VideoCategory.id == pk)


def video_row(factory: Any, pk: int) -> Video | None:
    with factory.bound():
        return Video.get_or_none(Video.id == pk)


def heroes(factory: Any) -> list[int]:
    with factory.bound():
        return [v.id for v in Video.select(Video.id).where(Video.is_hero == True).order_by(Video.id)]  # noqa: E712


def pk_of(global_id_: str) -> int:
    return int(base64.b64decode(global_id_).decode().split(":", 1)[1])


def refused(client: Any, query: str, variables: dict[str, Any], token: str | None, code: str) -> str:
    """The message of a request refused with `code`; the mutation answers no data."""
    body = client.post(query, variables, token=token)
    [error] = body["errors"]
    assert error["extensions"]["code"] == code, error
    assert body.get("data") is None, body
    return str(error["message"])


@pytest.fixture
def admin(factory: Any) -> tuple[User, str]:
    user = factory.admin()
    return user, factory.token(user)


def video_input(category: Any, **fields: Any) -> dict[str, Any]:
    return {
        "title": "Wolves of Yellowstone",
        "categoryId": gid("VideoCategory", category),
        "videoUrl": "https://media.example.com/wolves.mp4",
        "durationSeconds": 1800,
        **fields,
    }


# --- createCategory --------------------------------------------------------------------------


def test_create_category_answers_and_stores_every_field(client: Any, factory: Any, admin: Any) -> None:
    _, token = admin
    variables = {"input": {"name": "  Nature Docs ", "slug": "nature", "sortOrder": 5, "isActive": False}}
    answer = client.data(CREATE_CATEGORY, variables, token=token)["createCategory"]
    row = category_row(factory, pk_of(answer["id"]))
    assert row is not None
    assert answer == {
        "id": gid("VideoCategory", row),
        "name": "Nature Docs",
        "slug": "nature",
        "sortOrder": 5,
        "isActive": False,
        "videoCount": 0,
    }
    assert (row.name, row.slug, row.sort_order, row.is_active) == ("Nature Docs", "nature", 5, False)
    assert row.created_at == row.updated_at
    listed = client.data("{ categories(includeInactive: true) { id slug } }", token=token)["categories"]
    assert listed == [{"id": answer["id"], "slug": "nature"}]


def test_create_category_defaults(client: Any, factory: Any, admin: Any) -> None:
    _, token = admin
    answer = client.data(CREATE_CATEGORY, {"input": {"name": "Music"}}, token=token)["createCategory"]
    assert (answer["slug"], answer["sortOrder"], answer["isActive"]) == ("music", 0, True)
    row = category_row(factory, pk_of(answer["id"]))
    assert row is not None and (row.slug, row.sort_order, row.is_active) == ("music", 0, True)


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Nature Documentaries", "nature-documentaries"),
        ("  --Hello,   World!--  ", "hello-world"),
        ("Café & Bar: Live 2024", "cafe-bar-live-2024"),
        ("C++ / C#", "c-c"),
        ("x" * 100, "x" * 100),
    ],
)
def test_slug_is_derived_from_the_name(client: Any, factory: Any, admin: Any, name: str, slug: str) -> None:
    _, token = admin
    answer = client.data(CREATE_CATEGORY, {"input": {"name": name, "slug": None}}, token=token)
    assert answer["createCategory"]["slug"] == slug
    row = category_row(factory, pk_of(answer["createCategory"]["id"]))
    assert row is not None and row.slug == slug


def test_a_name_without_letters_or_digits_needs_a_slug(client: Any, factory: Any, admin: Any) -> None:
    _, token = admin
    before = snapshot(factory)
    message = refused(client, CREATE_CATEGORY, {"input": {"name": "!!! ???"}}, token, "BAD_USER_INPUT")
    assert "slug" in message
    assert snapshot(factory) == before
    # With a slug of its own the same name is fine.
    answer = client.data(CREATE_CATEGORY, {"input": {"name": "!!! ???", "slug": "wow"}}, token=token)
    assert answer["createCategory"]["name"] == "!!! ???"


@pytest.mark.parametrize(
    "slug", ["Nature", "double--dash", "-lead", "trail-", "two words", "ünï", "", "under_score", "a" * 101]
)
def test_malformed_slugs_are_refused(client: Any, factory: Any, admin: Any, slug: str) -> None:
    _, token = admin
    victim = factory.category("Victim")
    before = snapshot(factory)
    message = refused(
        client, CREATE_CATEGORY, {"input": {"name": "N", "slug": slug}}, token, "BAD_USER_INPUT"
    )
    assert "slug" in message
    variables = {"id": gid("VideoCategory", victim), "input": {"slug": slug}}
    assert "slug" in refused(client, UPDATE_CATEGORY, variables, token, "BAD_USER_INPUT")
    assert snapshot(factory) == before


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_bad_names_are_refused(client: Any, factory: Any, admin: Any, name: str) -> None:
    _, token = admin
    victim = factory.category("Victim")
    before = snapshot(factory)
    variables = {"input": {"name": name, "slug": "fine"}}
    assert "name" in refused(client, CREATE_CATEGORY, variables, token, "BAD_USER_INPUT")
    variables = {"id": gid("VideoCategory", victim), "input": {"name": name}}
    assert "name" in refused(client, UPDATE_CATEGORY, variables, token, "BAD_USER_INPUT")
    assert snapshot(factory) == before


def test_sort_order_must_fit_the_column(client: Any, factory: Any, admin: Any) -> None:
    _, token = admin
    before = snapshot(factory)
    # GraphQL's Int is 32-bit already: a larger value fails coercion, still as BAD_USER_INPUT.
    body = client.post(CREATE_CATEGORY, {"input": {"name": "Big", "sortOrder": 2**31}}, token=token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert snapshot(factory) == before
    answer = client.data(CREATE_CATEGORY, {"input": {"name": "Low", "sortOrder": -(2**31)}}, token=token)
    assert answer["createCategory"]["sortOrder"] == -(2**31)


def test_a_taken_slug_is_a_conflict_on_create_and_update(client: Any, factory: Any, admin: Any) -> None:
    _, token = admin
    client.data(CREATE_CATEGORY, {"input": {"name": "Nature"}}, token=token)
    other = factory.category("Other")
    before = snapshot(factory)
    # Derived or given, the same slug is refused.
    assert "nature" in refused(client, CREATE_CATEGORY, {"input": {"name": "Nature!"}}, token, "CONFLICT")
    variables = {"input": {"name": "Wildlife", "slug": "nature"}}
    assert "nature" in refused(client, CREATE_CATEGORY, variables, token, "CONFLICT")
    variables = {"id": gid("VideoCategory", other), "input": {"slug": "nature", "name": "Renamed"}}
    assert "nature" in refused(client, UPDATE_CATEGORY, variables, token, "CONFLICT")
    assert snapshot(factory) == before
    # A category may keep its own slug.
    variables = {"id": gid("VideoCategory", other), "input": {"slug": other.slug}}
    assert client.data(UPDATE_CATEGORY, variables, token=token)["updateCategory"]["slug"] == other.slug


# --- updateCategory --------------------------------------------------------------------------


def test_update_category_changes_only_the_given_fields(client: Any, factory: Any, admin: Any) -> None:
    _, token = admin
    category = factory.category("Sports", active=False, sort_order=3)
    before = category_row(factory, category.id)
    variables = {"id": gid("VideoCategory", category), "input": {"name": " Outdoor Sports "}}
    answer = client.data(UPDATE_CATEGORY, variables, token=token)["updateCategory"]
    # Renaming keeps the slug: links to the category keep working.
    assert answer == {
        "id": gid("VideoCategory", category),
        "name": "Outdoor Sports",
        "slug": category.slug,
        "sortOrder": 3,
        "isActive": False,
        "videoCount": 0,
    }
    after = category_row(factory, category.id)
    assert after is not None and before is not None
    assert (after.name, after.slug, after.sort_order, after.is_active) == (
        "Outdoor Sports",
        category.slug,
        3,
        False,
    )
    assert after.created_at == before.created_at
    assert after.updated_at > before.updated_at

    variables = {
        "id": gid("VideoCategory", category),
        "input": {"slug": "outdoor", "sortOrder": -1, "isActive": True},
    }
    answer = client.data(UPDATE_CATEGORY, variables, token=token)["updateCategory"]
    assert (answer["name"], answer["slug"], answer["sortOrder"], answer["isActive"]) == (
        "Outdoor Sports",
        "outdoor",
        -1,
        True,
    )
    after = category_row(factory, category.id)
    assert after is not None
    assert (after.name, after.slug, after.sort_order, after.is_active) == (
        "Outdoor Sports",
        "outdoor",
        -1,
        True,
    )


def test_update_category_answer_counts_its_videos(client: Any, factory: Any, admin: Any) -> None:
    user, token = admin
    category = factory.category("Counted")
    factory.video(category, user)
    factory.video(category, user, published=False)
    variables = {"id": gid("VideoCategory", category), "input": {}}
    answer = client.data(UPDATE_CATEGORY, variables, token=token)["updateCategory"]
    assert answer["videoCount"] == 2  # admins count drafts too
    assert answer["name"] == category.name


@pytest.mark.parametrize("field", ["name", "slug", "sortOrder", "isActive"])
def test_update_category_refuses_null_for_required_columns(
    client: Any, factory: Any, admin: Any, field: str
) -> None:
    _, token = admin
    category = factory.category("Kept")
    before = snapshot(factory)
    variables = {"id": gid("VideoCategory", category), "input": {field: None}}
    assert field in refused(client, UPDATE_CATEGORY, variables, token, "BAD_USER_INPUT")
    assert snapshot(factory) == before


def test_update_category_unknown_and_malformed_ids(client: Any, factory: Any, admin: Any) -> None:
    user, token = admin
    category = factory.category("Real")
    video = factory.video(category, user)
    before = snapshot(factory)
    input_ = {"name": "Renamed"}
    missing = global_id("VideoCategory", category.id + 1000)
    refused(client, UPDATE_CATEGORY, {"id": missing, "input": input_}, token, "NOT_FOUND")
    refused(client, UPDATE_CATEGORY, {"id": "nonsense", "input": input_}, token, "BAD_USER_INPUT")
    refused(client, UPDATE_CATEGORY, {"id": gid("Video", video), "input": input_}, token, "BAD_USER_INPUT")
    assert snapshot(factory) == before


# --- deleteCategory --------------------------------------------------------------------------


def test_delete_category_is_a_conflict_while_it_holds_videos(client: Any, factory: Any, admin: Any) -> None:
    user, token = admin
    category = factory.category("Busy", active=False)
    factory.video(category, user, published=False)  # a draft counts too
    before = snapshot(factory)
    message = refused(client, DELETE_CATEGORY, {"id": gid("VideoCategory", category)}, token, "CONFLICT")
    assert "videos" in message
    assert snapshot(factory) == before


def test_delete_an_empty_category(client: Any, factory: Any, admin: Any) -> None:
    user, token = admin
    empty = factory.category("Empty", active=False)
    kept = factory.category("Kept")
    factory.video(kept, user)
    answer = client.data(DELETE_CATEGORY, {"id": gid("VideoCategory", empty)}, token=token)["deleteCategory"]
    assert answer == {"deletedId": gid("VideoCategory", empty)}
    assert category_row(factory, empty.id) is None
    assert category_row(factory, kept.id) is not None
    listed = client.data("{ categories(includeInactive: true) { id } }", token=token)["categories"]
    assert listed == [{"id": gid("VideoCategory", kept)}]
    # Gone now, so a second delete finds nothing.
    refused(client, DELETE_CATEGORY, {"id": gid("VideoCategory", empty)}, token, "NOT_FOUND")
    refused(client, DELETE_CATEGORY, {"id": "nonsense"}, token, "BAD_USER_INPUT")


# --- createVideo -----------------------------------------------------------------------------


def test_create_video_answers_and_stores_every_field(client: Any, factory: Any, admin: Any) -> None:
    user, token = admin
    category = factory.category("Nature", active=False)
    started = utcnow()
    variables = {
        "input": video_input(
            category,
            title="  Wolves  ",
            description="Pack life.\n  Indented.",
            thumbnailUrl="https://img.example.com/w.jpg",
            captionUrl="http://subs.example.com/w.vtt",
            published=True,
        )
    }
    answer = client.data(CREATE_VIDEO, variables, token=token)["createVideo"]
    row = video_row(factory, pk_of(answer["id"]))
    assert row is not None
    assert answer == {
        "id": gid("Video", row),
        "title": "Wolves",
        "description": "Pack life.\n  Indented.",
        "videoUrl": "https://media.example.com/wolves.mp4",
        "thumbnailUrl": "https://img.example.com/w.jpg",
        "captionUrl": "http://subs.example.com/w.vtt",
        "durationSeconds": 1800,
        "viewCount": 0,
        "isHero": False,
        "published": True,
        "category": {"id": gid("VideoCategory", category)},
        "uploadedBy": {"id": gid("User", user)},
        "reactions": {"total": 0},
        "viewerProgress": None,
    }
    assert (row.title, row.description, row.video_url, row.thumbnail_url, row.caption_url) == (
        "Wolves",
        "Pack life.\n  Indented.",
        "https://media.example.com/wolves.mp4",
        "https://img.example.com/w.jpg",
        "http://subs.example.com/w.vtt",
    )
    assert (row.category_id, row.uploaded_by_id, row.duration_seconds, row.view_count) == (
        category.id,
        user.id,
        1800,
        0,
    )
    assert (row.published, row.is_hero) == (True, False)
    assert row.created_at == row.updated_at >= started
    read = client.data(
        "query($id: ID!) { video(id: $id) { title category { slug } } }", {"id": answer["id"]}, token=token
    )
    assert read["video"] == {"title": "Wolves", "category": {"slug": category.slug}}


def test_create_video_defaults(client: Any, factory: Any, admin: Any) -> None:
    _, token = admin
    category = factory.category("Nature")
    answer = client.data(CREATE_VIDEO, {"input": video_input(category)}, token=token)["createVideo"]
    assert (answer["published"], answer["isHero"]) == (False, False)
    assert (answer["description"], answer["thumbnailUrl"], answer["captionUrl"]) == (None, None, None)
    row = video_row(factory, pk_of(answer["id"]))
    assert row is not None
    assert (row.published, row.is_hero, row.description, row.thumbnail_url, row.caption_url) == (
        False,
        False,
        None,
        None,
        None,
    )


def test_create_video_in_an_unknown_or_malformed_category(client: Any, factory: Any, admin: Any) -> None:
    user, token = admin
    category = factory.category("Nature")
    video = factory.video(category, user)
    before = snapshot(factory)
    missing = global_id("VideoCategory", category.id + 1000)
    message = refused(
        client, CREATE_VIDEO, {"input": video_input(category, categoryId=missing)}, token, "NOT_FOUND"
    )
    assert "categoryId" in message
    for bad in ("nonsense", gid("Video", video)):
        variables = {"input": video_input(category, categoryId=bad)}
        refused(client, CREATE_VIDEO, variables, token, "BAD_USER_INPUT")
    assert snapshot(factory) == before


@pytest.mark.parametrize("pk", [2**31 - 1, 2**31, 2**63 - 1])
def test_a_category_id_beyond_every_key_is_not_found(client: Any, factory: Any, admin: Any, pk: int) -> None:
    # MySQL keys are 32-bit INTs: writing a bigger one into videos.category_id was an out-of-range
    # DataError (an INTERNAL_SERVER_ERROR) where SQLite's foreign key said NOT_FOUND. Found by
    # tests/test_fuzz.py.
    user, token = admin
    category = factory.category("Nature")
    video = factory.video(category, user)
    before = snapshot(factory)
    missing = global_id("VideoCategory", pk)
    create = {"input": video_input(category, categoryId=missing)}
    assert "categoryId" in refused(client, CREATE_VIDEO, create, token, "NOT_FOUND")
    update = {"id": gid("Video", video), "input": {"title": "Moved", "categoryId": missing}}
    assert "categoryId" in refused(client, UPDATE_VIDEO, update, token, "NOT_FOUND")
    assert snapshot(factory) == before


BAD_URLS = [
    "ftp://media.example.com/v.mp4",
    "javascript:alert(1)",
    "not a url",
    "/relative/path.mp4",
    "media.example.com/v.mp4",
    "https://",
    "http:///no-host.mp4",
    "https://exa mple.com/v.mp4",
    "https://example.com:99999/v.mp4",
    "https://example.com/\x00.mp4",
    "",
    "https://example.com/" + "a" * 2048,
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_bad_urls_are_refused_and_nothing_changes(client: Any, factory: Any, admin: Any, url: str) -> None:
    user, token = admin
    category = factory.category("Nature")
    video = factory.video(category, user, thumbnail_url="https://img.example.com/t.jpg")
    before = snapshot(factory)
    for field in ("videoUrl", "thumbnailUrl", "captionUrl"):
        message = refused(
            client, CREATE_VIDEO, {"input": video_input(category, **{field: url})}, token, "BAD_USER_INPUT"
        )
        assert field in message
        variables = {"id": gid("Video", video), "input": {field: url}}
        assert field in refused(client, UPDATE_VIDEO, variables, token, "BAD_USER_INPUT")
    assert snapshot(factory) == before


def test_urls_at_the_length_limit_are_accepted(client: Any, factory: Any, admin: Any) -> None:
    _, token = admin
    category = factory.category("Nature")
    url = "https://example.com/" + "a" * (2048 - len("https://example.com/"))
    answer = client.data(CREATE_VIDEO, {"input": video_input(category, videoUrl=url)}, token=token)
    row = video_row(factory, pk_of(answer["createVideo"]["id"]))
    assert row is not None and row.video_url == url and len(url) == 2048


@pytest.mark.parametrize("seconds", [-1, MAX_DURATION_SECONDS + 1])
def test_bad_durations_are_refused(client: Any, factory: Any, admin: Any, seconds: int) -> None:
    user, token = admin
    category = factory.category("Nature")
    video = factory.video(category, user)
    before = snapshot(factory)
    variables = {"input": video_input(category, durationSeconds=seconds)}
    assert "durationSeconds" in refused(client, CREATE_VIDEO, variables, token, "BAD_USER_INPUT")
    variables = {"id": gid("Video", video), "input": {"durationSeconds": seconds}}
    assert "durationSeconds" in refused(client, UPDATE_VIDEO, variables, token, "BAD_USER_INPUT")
    assert snapshot(factory) == before


@pytest.mark.parametrize("seconds", [0, MAX_DURATION_SECONDS])
def test_durations_at_the_bounds_are_accepted(client: Any, factory: Any, admin: Any, seconds: int) -> None:
    _, token = admin
    category = factory.category("Nature")
    answer = client.data(CREATE_VIDEO, {"input": video_input(category, durationSeconds=seconds)}, token=token)
    row = video_row(factory, pk_of(answer["createVideo"]["id"]))
    assert row is not None and row.duration_seconds == seconds == answer["createVideo"]["durationSeconds"]


@pytest.mark.parametrize(
    ("field", "value"), [("title", ""), ("title", "  \n "), ("title", "t" * 201), ("description", "d" * 5001)]
)
def test_bad_titles_and_descriptions_are_refused(
    client: Any, factory: Any, admin: Any, field: str, value: str
) -> None:
    user, token = admin
    category = factory.category("Nature")
    video = factory.video(category, user)
    before = snapshot(factory)
    assert field in refused(
        client, CREATE_VIDEO, {"input": video_input(category, **{field: value})}, token, "BAD_USER_INPUT"
    )
    variables = {"id": gid("Video", video), "input": {field: value}}
    assert field in refused(client, UPDATE_VIDEO, variables, token, "BAD_USER_INPUT")
    assert snapshot(factory) == before


def test_titles_and_descriptions_at_their_limits_are_accepted(client: Any, factory: Any, admin: Any) -> None:
    _, token = admin
    category = factory.category("Nature")
    variables = {"input": video_input(category, title="é" * 200, description="ü" * 5000)}
    answer = client.data(CREATE_VIDEO, variables, token=token)["createVideo"]
    row = video_row(factory, pk_of(answer["id"]))
    assert row is not None and (row.title, row.description) == ("é" * 200, "ü" * 5000)


@pytest.mark.parametrize(
    ("query", "input_"),
    [
        (CREATE_CATEGORY, {"name": "N", "sortOrder": None}),
        (CREATE_CATEGORY, {"name": "N", "isActive": None}),
        (CREATE_VIDEO, {"published": None}),
        (CREATE_VIDEO, {"isHero": None}),
    ],
)
def test_create_refuses_null_for_a_column_with_a_default(
    client: Any, factory: Any, admin: Any, query: str, input_: dict[str, Any]
) -> None:
    _, token = admin
    category = factory.category("Nature")
    before = snapshot(factory)
    variables = {"input": video_input(category, **input_) if query == CREATE_VIDEO else input_}
    [field] = [k for k, v in input_.items() if v is None]
    assert field in refused(client, query, variables, token, "BAD_USER_INPUT")
    assert snapshot(factory) == before


# --- updateVideo -----------------------------------------------------------------------------


def _columns(row: Video) -> dict[str, Any]:
    """Every stored value but updated_at (foreign keys as their ids, never loaded)."""
    return {name: value for name, value in row.__data__.items() if name != "updated_at"}


def test_update_video_changes_only_the_given_fields(client: Any, factory: Any, admin: Any) -> None:
    _, token = admin
    category = factory.category("Nature")
    other = factory.user()
    video = factory.video(
        factory.category("Old"),
        other,
        description="Keep me",
        thumbnail_url="https://img.example.com/t.jpg",
        caption_url="https://subs.example.com/c.vtt",
        views=7,
        published=False,
    )
    before = video_row(factory, video.id)
    assert before is not None
    variables = {
        "id": gid("Video", video),
        "input": {"title": " New title ", "categoryId": gid("VideoCategory", category)},
    }
    answer = client.data(UPDATE_VIDEO, variables, token=token)["updateVideo"]
    assert answer["title"] == "New title"
    assert answer["category"] == {"id": gid("VideoCategory", category)}
    assert answer["description"] == "Keep me"
    assert answer["uploadedBy"] == {"id": gid("User", other)}  # the uploader stays who uploaded it
    assert (answer["viewCount"], answer["published"]) == (7, False)
    after = video_row(factory, video.id)
    assert after is not None
    assert _columns(after) == {**_columns(before), "title": "New title", "category": category.id}
    assert after.updated_at > before.updated_at

    variables = {
        "id": gid("Video", video),
        "input": {"published": True, "durationSeconds": 42, "videoUrl": "http://v.example/x"},
    }
    answer = client.data(UPDATE_VIDEO, variables, token=token)["updateVideo"]
    assert (answer["published"], answer["durationSeconds"], answer["videoUrl"]) == (
        True,
        42,
        "http://v.example/x",
    )
    final = video_row(factory, video.id)
    assert final is not None
    assert (final.published, final.duration_seconds, final.video_url, final.title) == (
        True,
        42,
        "http://v.example/x",
        "New title",
    )


def test_explicit_null_clears_nullable_fields(client: Any, factory: Any, admin: Any) -> None:
    user, token = admin
    video = factory.video(
        factory.category("Nature"),
        user,
        description="Text",
        thumbnail_url="https://img.example.com/t.jpg",
        caption_url="https://subs.example.com/c.vtt",
    )
    variables = {
        "id": gid("Video", video),
        "input": {"description": None, "thumbnailUrl": None, "captionUrl": None},
    }
    answer = client.data(UPDATE_VIDEO, variables, token=token)["updateVideo"]
    assert (answer["description"], answer["thumbnailUrl"], answer["captionUrl"]) == (None, None, None)
    assert answer["title"] == video.title
    row = video_row(factory, video.id)
    assert row is not None
    assert (row.description, row.thumbnail_url, row.caption_url, row.title) == (None, None, None, video.title)


@pytest.mark.parametrize(
    "field", ["title", "categoryId", "videoUrl", "durationSeconds", "published", "isHero"]
)
def test_explicit_null_on_a_required_field_is_refused(
    client: Any, factory: Any, admin: Any, field: str
) -> None:
    user, token = admin
    video = factory.video(factory.category("Nature"), user)
    before = snapshot(factory)
    variables = {"id": gid("Video", video), "input": {"description": "changed", field: None}}
    assert field in refused(client, UPDATE_VIDEO, variables, token, "BAD_USER_INPUT")
    assert snapshot(factory) == before


def test_update_video_unknown_ids(client: Any, factory: Any, admin: Any) -> None:
    user, token = admin
    category = factory.category("Nature")
    hero = factory.video(category, user, is_hero=True)
    before = snapshot(factory)
    missing = global_id("Video", hero.id + 1000)
    # isHero: true on a missing video must not clear the real hero on its way to NOT_FOUND.
    refused(client, UPDATE_VIDEO, {"id": missing, "input": {"isHero": True}}, token, "NOT_FOUND")
    variables = {
        "id": gid("Video", hero),
        "input": {"title": "x", "categoryId": global_id("VideoCategory", category.id + 1000)},
    }
    assert "categoryId" in refused(client, UPDATE_VIDEO, variables, token, "NOT_FOUND")
    refused(client, UPDATE_VIDEO, {"id": "nonsense", "input": {"title": "x"}}, token, "BAD_USER_INPUT")
    refused(
        client,
        UPDATE_VIDEO,
        {"id": gid("VideoCategory", category), "input": {"title": "x"}},
        token,
        "BAD_USER_INPUT",
    )
    assert snapshot(factory) == before


def test_admins_update_drafts_in_inactive_categories(client: Any, factory: Any, admin: Any) -> None:
    user, token = admin
    video = factory.video(factory.category("Hidden", active=False), user, published=False)
    variables = {"id": gid("Video", video), "input": {"title": "Still hidden"}}
    assert client.data(UPDATE_VIDEO, variables, token=token)["updateVideo"]["title"] == "Still hidden"
    row = video_row(factory, video.id)
    assert row is not None and row.title == "Still hidden"


# --- one hero --------------------------------------------------------------------------------


def test_creating_a_hero_clears_the_old_one(client: Any, factory: Any, admin: Any) -> None:
    user, token = admin
    category = factory.category("Nature")
    old = factory.video(category, user, is_hero=True)
    plain = factory.video(category, user)
    answer = client.data(
        CREATE_VIDEO, {"input": video_input(category, isHero=True, published=True)}, token=token
    )
    new_pk = pk_of(answer["createVideo"]["id"])
    assert answer["createVideo"]["isHero"] is True
    assert heroes(factory) == [new_pk]
    old_row, plain_row = video_row(factory, old.id), video_row(factory, plain.id)
    assert old_row is not None and plain_row is not None
    assert (old_row.is_hero, plain_row.is_hero) == (False, False)
    assert client.data("{ heroVideo { id } }")["heroVideo"] == {"id": answer["createVideo"]["id"]}
    # A non-hero video leaves the hero alone.
    client.data(CREATE_VIDEO, {"input": video_input(category)}, token=token)
    assert heroes(factory) == [new_pk]


def test_updating_the_hero_flag(client: Any, factory: Any, admin: Any) -> None:
    user, token = admin
    category = factory.category("Nature")
    first = factory.video(category, user, is_hero=True)
    second = factory.video(category, user)
    third = factory.video(category, user)

    answer = client.data(UPDATE_VIDEO, {"id": gid("Video", second), "input": {"isHero": True}}, token=token)
    assert answer["updateVideo"]["isHero"] is True
    assert heroes(factory) == [second.id]
    assert client.data("{ heroVideo { id } }")["heroVideo"] == {"id": gid("Video", second)}

    # false clears this one only: it never touches another video.
    answer = client.data(UPDATE_VIDEO, {"id": gid("Video", third), "input": {"isHero": False}}, token=token)
    assert answer["updateVideo"]["isHero"] is False
    assert heroes(factory) == [second.id]
    client.data(UPDATE_VIDEO, {"id": gid("Video", second), "input": {"isHero": False}}, token=token)
    assert heroes(factory) == []
    assert client.data("{ heroVideo { id } }")["heroVideo"] is None
    first_row = video_row(factory, first.id)
    assert first_row is not None and first_row.is_hero is False


async def _at_once(base_url: str, requests: list[tuple[str, str, dict[str, Any]]]) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        responses = await asyncio.gather(
            *(
                http.post(
                    "/graphql", json={"query": q, "variables": v}, headers={"Authorization": f"Bearer {t}"}
                )
                for t, q, v in requests
            )
        )
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    return [dict(r.json()) for r in responses]


def test_racing_admins_leave_exactly_one_hero(settings: Any, db: Any, factory: Any) -> None:
    # A real server, so the transactions truly overlap (on MariaDB they queue for the hero lock).
    tokens = [factory.token(factory.admin()) for _ in range(2)]
    category = factory.category("Nature")
    old_hero, *others = [factory.video(category, factory.admin(), is_hero=(i == 0)) for i in range(3)]
    requests = [
        (tokens[i % 2], CREATE_VIDEO, {"input": video_input(category, title=f"New {i}", isHero=True)})
        for i in range(4)
    ] + [
        (tokens[i % 2], UPDATE_VIDEO, {"id": gid("Video", v), "input": {"isHero": True}})
        for i, v in enumerate(others)
    ]
    with live_server(settings) as base_url:
        bodies = asyncio.run(_at_once(base_url, requests))
    assert [b for b in bodies if b.get("errors")] == []
    [hero] = heroes(factory)
    made_heroes = {pk_of(b["data"]["createVideo"]["id"]) for b in bodies if "createVideo" in b["data"]}
    assert hero in made_heroes | {v.id for v in others}
    assert hero != old_hero.id


# --- deleteVideo -----------------------------------------------------------------------------


def test_delete_video_takes_its_progress_and_reactions_with_it(client: Any, factory: Any, admin: Any) -> None:
    user, token = admin
    category = factory.category("Nature")
    doomed = factory.video(category, user, published=False)
    kept = factory.video(category, user)
    viewers = [factory.user() for _ in range(2)]
    for viewer in viewers:
        factory.progress(viewer, doomed, 30)
        factory.reaction(viewer, doomed, "love")
        factory.progress(viewer, kept, 10)
        factory.reaction(viewer, kept, "like")

    answer = client.data(DELETE_VIDEO, {"id": gid("Video", doomed)}, token=token)["deleteVideo"]
    assert answer == {"deletedId": gid("Video", doomed)}
    assert video_row(factory, doomed.id) is None
    with factory.bound():
        assert VideoProgress.select().where(VideoProgress.video == doomed.id).count() == 0
        assert VideoReaction.select().where(VideoReaction.video == doomed.id).count() == 0
        assert VideoProgress.select().where(VideoProgress.video == kept.id).count() == 2
        assert VideoReaction.select().where(VideoReaction.video == kept.id).count() == 2
    assert client.data(
        "query($id: ID!) { video(id: $id) { id } }", {"id": gid("Video", doomed)}, token=token
    ) == {"video": None}
    # Gone now, so a second delete finds nothing.
    refused(client, DELETE_VIDEO, {"id": gid("Video", doomed)}, token, "NOT_FOUND")
    refused(client, DELETE_VIDEO, {"id": gid("VideoCategory", category)}, token, "BAD_USER_INPUT")


def test_deleting_its_last_video_frees_the_category(client: Any, factory: Any, admin: Any) -> None:
    user, token = admin
    category = factory.category("Nature")
    video = factory.video(category, user)
    refused(client, DELETE_CATEGORY, {"id": gid("VideoCategory", category)}, token, "CONFLICT")
    client.data(DELETE_VIDEO, {"id": gid("Video", video)}, token=token)
    client.data(DELETE_CATEGORY, {"id": gid("VideoCategory", category)}, token=token)
    assert category_row(factory, category.id) is None


# --- who may curate --------------------------------------------------------------------------


def test_members_are_forbidden_and_anonymous_callers_unauthenticated(client: Any, factory: Any) -> None:
    owner = factory.admin()
    member = factory.user()
    category = factory.category("Nature")
    video = factory.video(category, owner)
    before = snapshot(factory)
    refused(client, CREATE_VIDEO, {"input": video_input(category)}, factory.token(member), "FORBIDDEN")
    refused(client, DELETE_CATEGORY, {"id": gid("VideoCategory", category)}, None, "UNAUTHENTICATED")
    refused(client, DELETE_VIDEO, {"id": gid("Video", video)}, None, "UNAUTHENTICATED")
    assert snapshot(factory) == before


# --- statement counts ------------------------------------------------------------------------


def _statements(client: Any, query: str, variables: dict[str, Any], token: str) -> list[str]:
    """The first word of every statement the request ran, in order."""
    with count_queries() as counter:
        client.data(query, variables, token=token)
    statements = [record.msg[0] for record in counter.get_queries()]
    assert len(statements) == counter.count
    return [sql.split(None, 1)[0] for sql in statements]


def test_create_video_runs_a_small_fixed_number_of_statements(
    client: Any, factory: Any, admin: Any, backend: str
) -> None:
    user, token = admin
    category = factory.category("Nature")
    for _ in range(5):
        factory.video(category, user, is_hero=True)  # however many heroes there were: one UPDATE
    # The token, the hero lock (MySQL's SELECT ... FOR UPDATE), the INSERT, clearing the other
    # heroes, the answer (its video, category and uploader in one SELECT; a new video has no
    # reactions or progress to read).
    hero = _statements(client, CREATE_VIDEO, {"input": video_input(category, isHero=True)}, token)
    assert hero == ["SELECT", *_hero_lock(backend), "INSERT", "UPDATE", "SELECT"]
    plain = _statements(client, CREATE_VIDEO, {"input": video_input(category)}, token)
    assert plain == ["SELECT", "INSERT", "SELECT"]
    assert len(heroes(factory)) == 1


def _hero_lock(backend: str) -> list[str]:
    return ["SELECT"] if backend == "mysql" else []  # SQLite's writers queue without one


def test_update_video_runs_a_small_fixed_number_of_statements(
    client: Any, factory: Any, admin: Any, backend: str
) -> None:
    user, token = admin
    category = factory.category("Nature")
    videos = [factory.video(category, user, is_hero=True) for _ in range(5)]
    for viewer in [factory.user() for _ in range(3)]:
        factory.reaction(viewer, videos[0], "wow")
    variables = {"id": gid("Video", videos[0]), "input": {"title": "T", "isHero": True}}
    # The token; the hero lock, the UPDATE, the existence check, clearing the other heroes; the
    # answer and, because VIDEO_FIELDS asks for them, its reaction counts and the caller's progress.
    assert _statements(client, UPDATE_VIDEO, variables, token) == [
        "SELECT",
        *_hero_lock(backend),
        "UPDATE",
        "SELECT",
        "UPDATE",
        "SELECT",
        "SELECT",
        "SELECT",
    ]
    bare = (
        "mutation($id: ID!, $input: UpdateVideoInput!) { updateVideo(id: $id, input: $input) { id title } }"
    )
    variables = {"id": gid("Video", videos[1]), "input": {"title": "U"}}
    assert _statements(client, bare, variables, token) == ["SELECT", "UPDATE", "SELECT", "SELECT"]
    assert heroes(factory) == [videos[0].id]
