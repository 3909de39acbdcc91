"""The authorization matrix: every mutation of the contract x {anonymous, member, other member, admin}.

"member" owns the progress and reaction on the shared video; "other member" is a second account.
A refusal must carry its code and change nothing; an allowed call must do its work and touch
nothing that belongs to someone else.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from models import AccessToken, User, Video, VideoCategory, VideoProgress, VideoReaction
from tests.factories import Factory, gid

ROLES = ("anonymous", "member", "other member", "admin")
_emails = itertools.count(1)


@dataclass
class World:
    factory: Factory
    admin: User
    member: User
    other: User
    category: VideoCategory
    empty_category: VideoCategory
    video: Video
    tokens: dict[str, str | None]

    def snapshot(self) -> dict[str, Any]:
        with self.factory.bound():
            return {
                "users": sorted(u.email for u in User.select()),
                "tokens": AccessToken.select().count(),
                "categories": sorted((c.slug, c.name, c.is_active) for c in VideoCategory.select()),
                "videos": sorted((v.id, v.title, v.view_count, v.is_hero) for v in Video.select()),
                "progress": sorted((p.user_id, p.video_id, p.last_position) for p in VideoProgress.select()),
                "reactions": sorted((r.user_id, r.video_id, r.reaction_type) for r in VideoReaction.select()),
            }


@pytest.fixture
def world(factory: Factory) -> World:
    admin, member, other = factory.admin(), factory.user(), factory.user()
    category = factory.category("Shared")
    video = factory.video(category, admin, title="Shared video", duration=1000)
    factory.progress(member, video, 100)
    factory.reaction(member, video, "love")
    return World(
        factory=factory,
        admin=admin,
        member=member,
        other=other,
        category=category,
        empty_category=factory.category("Empty"),
        video=video,
        tokens={
            "anonymous": None,
            "member": factory.token(member),
            "other member": factory.token(other),
            "admin": factory.token(admin),
        },
    )


@dataclass(frozen=True)
class Case:
    query: str
    variables: Callable[[World], dict[str, Any]]
    allowed: frozenset[str]
    refusal: Callable[[str], str]  # role -> expected code when refused
    effect: Callable[
        [World, str, dict[str, Any], dict[str, Any]], None
    ]  # asserts (world, role, before, after)


def signed_in_only(role: str) -> str:
    return "UNAUTHENTICATED"


def admin_only(role: str) -> str:
    return "UNAUTHENTICATED" if role == "anonymous" else "FORBIDDEN"


EVERYONE = frozenset(ROLES)
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
ADMINS = frozenset({"admin"})


def actor(w: World, role: str) -> User:
    return {"member": w.member, "other member": w.other, "admin": w.admin}[role]


def owner_progress(w: World, after: dict[str, Any]) -> list[tuple[int, int, int]]:
    return [p for p in after["progress"] if p[0] == w.member.id]


def changed_only(before: dict[str, Any], after: dict[str, Any], *tables: str) -> None:
    for table in before:
        if table not in tables:
            assert after[table] == before[table], table


def fresh_email() -> str:
    return f"matrix{next(_emails)}@example.com"


Snapshot = dict[str, Any]


def registered(w: World, role: str, b: Snapshot, a: Snapshot) -> None:
    changed_only(b, a, "users", "tokens")
    assert len(a["users"]) == len(b["users"]) + 1
    assert a["tokens"] == b["tokens"] + 1


def logged_in(w: World, role: str, b: Snapshot, a: Snapshot) -> None:
    changed_only(b, a, "tokens")
    assert a["tokens"] == b["tokens"] + 1


def logged_out(w: World, role: str, b: Snapshot, a: Snapshot) -> None:
    changed_only(b, a, "tokens")
    assert a["tokens"] == b["tokens"] - 1


def progress_saved(w: World, role: str, b: Snapshot, a: Snapshot) -> None:
    changed_only(b, a, "progress")
    assert (actor(w, role).id, w.video.id, 500) in a["progress"]
    if role != "member":
        assert owner_progress(w, a) == owner_progress(w, b), "touched the owner's progress"


def progress_cleared(w: World, role: str, b: Snapshot, a: Snapshot) -> None:
    changed_only(b, a, "progress")
    assert owner_progress(w, a) == ([] if role == "member" else owner_progress(w, b))


def reacted(w: World, role: str, b: Snapshot, a: Snapshot) -> None:
    changed_only(b, a, "reactions")
    assert (actor(w, role).id, w.video.id, "wow") in a["reactions"]
    if role != "member":
        assert (w.member.id, w.video.id, "love") in a["reactions"], "changed the owner's reaction"


def unreacted(w: World, role: str, b: Snapshot, a: Snapshot) -> None:
    changed_only(b, a, "reactions")
    assert ((w.member.id, w.video.id, "love") in a["reactions"]) == (role != "member")


def viewed(w: World, role: str, b: Snapshot, a: Snapshot) -> None:
    changed_only(b, a, "videos")
    assert a["videos"][0][2] == b["videos"][0][2] + 1


def category_created(w: World, role: str, b: Snapshot, a: Snapshot) -> None:
    changed_only(b, a, "categories")
    assert ("brand-new", "Brand New", True) in a["categories"]


def category_renamed(w: World, role: str, b: Snapshot, a: Snapshot) -> None:
    changed_only(b, a, "categories")
    assert (w.category.slug, "Renamed", True) in a["categories"]


def category_deleted(w: World, role: str, b: Snapshot, a: Snapshot) -> None:
    changed_only(b, a, "categories")
    assert [c for c in b["categories"] if c[0] != w.empty_category.slug] == a["categories"]


def video_created(w: World, role: str, b: Snapshot, a: Snapshot) -> None:
    changed_only(b, a, "videos")
    assert [v[1] for v in a["videos"]] == ["Shared video", "Fresh"]


def video_updated(w: World, role: str, b: Snapshot, a: Snapshot) -> None:
    changed_only(b, a, "videos")
    assert a["videos"][0][1] == "Retitled"


def video_deleted(w: World, role: str, b: Snapshot, a: Snapshot) -> None:
    changed_only(b, a, "videos", "progress", "reactions")
    assert (a["videos"], a["progress"], a["reactions"]) == ([], [], [])


def video_id(w: World) -> dict[str, Any]:
    return {"v": gid("Video", w.video)}


CASES: dict[str, Case] = {
    "register": Case(
        'mutation($e: String!) { register(input: {email: $e, password: "password123", displayName: "New"}) '
        "{ token user { id } } }",
        lambda w: {"e": fresh_email()},
        EVERYONE,
        signed_in_only,
        registered,
    ),
    "login": Case(
        'mutation($e: String!) { login(email: $e, password: "password123") { token user { id } } }',
        lambda w: {"e": w.member.email},
        EVERYONE,
        signed_in_only,
        logged_in,
    ),
    "logout": Case("mutation { logout }", lambda w: {}, SIGNED_IN, signed_in_only, logged_out),
    "saveProgress": Case(
        "mutation($v: ID!) { saveProgress(input: {videoId: $v, positionSeconds: 500}) { lastPosition } }",
        video_id,
        SIGNED_IN,
        signed_in_only,
        progress_saved,
    ),
    "clearProgress": Case(
        "mutation($v: ID!) { clearProgress(videoId: $v) { id viewerProgress { id } } }",
        video_id,
        SIGNED_IN,
        signed_in_only,
        progress_cleared,
    ),
    "react": Case(
        "mutation($v: ID!) { react(videoId: $v, type: WOW) { reactions { viewerReaction } } }",
        video_id,
        SIGNED_IN,
        signed_in_only,
        reacted,
    ),
    "unreact": Case(
        "mutation($v: ID!) { unreact(videoId: $v) { reactions { viewerReaction } } }",
        video_id,
        SIGNED_IN,
        signed_in_only,
        unreacted,
    ),
    "recordView": Case(
        "mutation($v: ID!) { recordView(videoId: $v) { viewCount } }",
        video_id,
        EVERYONE,
        signed_in_only,
        viewed,
    ),
    "createCategory": Case(
        'mutation { createCategory(input: {name: "Brand New"}) { slug } }',
        lambda w: {},
        ADMINS,
        admin_only,
        category_created,
    ),
    "updateCategory": Case(
        'mutation($c: ID!) { updateCategory(id: $c, input: {name: "Renamed"}) { name } }',
        lambda w: {"c": gid("VideoCategory", w.category)},
        ADMINS,
        admin_only,
        category_renamed,
    ),
    "deleteCategory": Case(
        "mutation($c: ID!) { deleteCategory(id: $c) { deletedId } }",
        lambda w: {"c": gid("VideoCategory", w.empty_category)},
        ADMINS,
        admin_only,
        category_deleted,
    ),
    "createVideo": Case(
        'mutation($c: ID!) { createVideo(input: {title: "Fresh", categoryId: $c, '
        'videoUrl: "https://x.example/v.mp4", durationSeconds: 60}) { title } }',
        lambda w: {"c": gid("VideoCategory", w.category)},
        ADMINS,
        admin_only,
        video_created,
    ),
    "updateVideo": Case(
        'mutation($v: ID!) { updateVideo(id: $v, input: {title: "Retitled"}) { title } }',
        video_id,
        ADMINS,
        admin_only,
        video_updated,
    ),
    "deleteVideo": Case(
        "mutation($v: ID!) { deleteVideo(id: $v) { deletedId } }",
        video_id,
        ADMINS,
        admin_only,
        video_deleted,
    ),
}


def test_every_contract_mutation_is_in_the_matrix() -> None:
    from graphql import build_schema

    from schema.api import print_schema
    from tests.test_schema_contract import CONTRACT

    for sdl in (CONTRACT.read_text(), print_schema()):
        mutation = build_schema(sdl).mutation_type
        assert mutation is not None
        assert sorted(mutation.fields) == sorted(CASES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_authorization_matrix(client: Any, world: World, name: str, role: str) -> None:
    case = CASES[name]
    before = world.snapshot()
    body = client.post(case.query, case.variables(world), token=world.tokens[role])
    after = world.snapshot()
    if role in case.allowed:
        assert "errors" not in body, body
        assert body["data"][name] is not None
        case.effect(world, role, before, after)
    else:
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == [case.refusal(role)]
        assert after == before, "a refused mutation changed the database"
