"""The viewer's writes over HTTP, on both backends: saveProgress, clearProgress, react, unreact, recordView.

Every value is checked twice: in the answer and in the database row it claims to reflect.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from playhouse.test_utils import count_queries

from models import Video, VideoProgress, VideoReaction
from tests.factories import gid

SAVE = """
mutation ($input: SaveProgressInput!) {
  saveProgress(input: $input) {
    id watchedSeconds durationSeconds lastPosition completed percentComplete updatedAt
    video { id viewerProgress { id watchedSeconds lastPosition completed } }
  }
}"""

CLEAR = "mutation ($id: ID!) { clearProgress(videoId: $id) { id viewerProgress { id } } }"

REACTIONS = "reactions { total viewerReaction counts { type count } }"
REACT = (
    f"mutation ($id: ID!, $type: ReactionType!) {{ react(videoId: $id, type: $type) {{ id {REACTIONS} }} }}"
)
UNREACT = f"mutation ($id: ID!) {{ unreact(videoId: $id) {{ id {REACTIONS} }} }}"

RECORD_VIEW = "mutation ($id: ID!) { recordView(videoId: $id) { id viewCount updatedAt } }"

KINDS = ["LIKE", "LOVE", "HAHA", "WOW", "SAD", "ANGRY"]


class World:
    """A member with a token, an admin with a token, and a published 100-second video."""

    def __init__(self, factory: Any) -> None:
        self.factory = factory
        self.admin = factory.admin()
        self.member = factory.user()
        self.token = factory.token(self.member)
        self.admin_token = factory.token(self.admin)
        self.category = factory.category("Nature")
        self.video = factory.video(self.category, self.admin, title="Wolves", duration=100, views=7)
        self.video_id = gid("Video", self.video)

    def draft(self) -> Any:
        return self.factory.video(self.category, self.admin, title="Draft", published=False, duration=100)

    def in_inactive_category(self) -> Any:
        hidden = self.factory.category("Hidden", active=False)
        return self.factory.video(hidden, self.admin, title="Hidden", duration=100)


@pytest.fixture
def world(factory: Any) -> World:
    return World(factory)


def save(client: Any, token: str | None, video_id: str, position: int) -> dict[str, Any]:
    variables = {"input": {"videoId": video_id, "positionSeconds": position}}
    return dict(client.data(SAVE, variables, token=token)["saveProgress"])


def progress_rows(factory: Any, video: Any) -> list[VideoProgress]:
    with factory.bound():
        return list(VideoProgress.select().where(VideoProgress.video == video.id).order_by(VideoProgress.id))


def reaction_rows(factory: Any, video: Any) -> list[VideoReaction]:
    with factory.bound():
        return list(VideoReaction.select().where(VideoReaction.video == video.id).order_by(VideoReaction.id))


def video_row(factory: Any, video: Any) -> Video:
    with factory.bound():
        return Video.get_by_id(video.id)


def counts(answer: dict[str, Any]) -> dict[str, int]:
    return {c["type"]: c["count"] for c in answer["reactions"]["counts"]}


def columns(row: Any) -> dict[str, Any]:
    return dict(row.__data__)


# --- saveProgress -------------------------------------------------------------------------


def test_save_progress_creates_the_row_then_updates_it_in_place(client: Any, world: World) -> None:
    first = save(client, world.token, world.video_id, 30)
    assert first["watchedSeconds"] == 30
    assert first["lastPosition"] == 30
    assert first["durationSeconds"] == 100
    assert first["completed"] is False
    assert first["percentComplete"] == pytest.approx(0.3)
    # video { viewerProgress } is this very row.
    assert first["video"] == {
        "id": world.video_id,
        "viewerProgress": {"id": first["id"], "watchedSeconds": 30, "lastPosition": 30, "completed": False},
    }
    [row] = progress_rows(world.factory, world.video)
    assert first["id"] == gid("VideoProgress", row)
    assert (row.user_id, row.watched_seconds, row.last_position, row.duration_seconds, row.completed) == (
        world.member.id,
        30,
        30,
        100,
        False,
    )

    second = save(client, world.token, world.video_id, 55)
    assert second["id"] == first["id"]
    assert (second["watchedSeconds"], second["lastPosition"]) == (55, 55)
    assert second["video"]["viewerProgress"] == {
        "id": first["id"],
        "watchedSeconds": 55,
        "lastPosition": 55,
        "completed": False,
    }
    assert second["updatedAt"] > first["updatedAt"]
    [again] = progress_rows(world.factory, world.video)
    assert again.id == row.id
    assert (again.watched_seconds, again.last_position) == (55, 55)
    assert again.created_at == row.created_at
    assert again.updated_at > row.updated_at


def test_each_user_has_their_own_row(client: Any, world: World) -> None:
    other_token = world.factory.token(world.factory.user())
    mine = save(client, world.token, world.video_id, 20)
    theirs = save(client, other_token, world.video_id, 40)
    assert mine["id"] != theirs["id"]
    rows = progress_rows(world.factory, world.video)
    assert sorted(r.watched_seconds for r in rows) == [20, 40]


def test_position_is_clamped_to_the_duration(client: Any, world: World) -> None:
    answer = save(client, world.token, world.video_id, 1_000_000)
    assert (answer["lastPosition"], answer["watchedSeconds"], answer["durationSeconds"]) == (100, 100, 100)
    assert answer["completed"] is True
    assert answer["percentComplete"] == 1.0
    [row] = progress_rows(world.factory, world.video)
    assert (row.last_position, row.watched_seconds, row.completed) == (100, 100, True)


def test_negative_position_is_refused_and_writes_nothing(client: Any, world: World) -> None:
    variables = {"input": {"videoId": world.video_id, "positionSeconds": -1}}
    error = client.error(SAVE, variables, token=world.token)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "positionSeconds" in error["message"]
    assert progress_rows(world.factory, world.video) == []

    save(client, world.token, world.video_id, 40)
    [before] = progress_rows(world.factory, world.video)
    variables = {"input": {"videoId": world.video_id, "positionSeconds": -5}}
    error = client.error(SAVE, variables, token=world.token)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    [after] = progress_rows(world.factory, world.video)
    assert columns(after) == columns(before)


def test_completed_is_set_at_ninety_percent_and_stays_set(client: Any, world: World) -> None:
    assert save(client, world.token, world.video_id, 89)["completed"] is False
    reached = save(client, world.token, world.video_id, 90)
    assert reached["completed"] is True
    back = save(client, world.token, world.video_id, 10)
    assert back["completed"] is True
    assert (back["watchedSeconds"], back["lastPosition"]) == (90, 10)
    assert back["video"]["viewerProgress"]["completed"] is True
    [row] = progress_rows(world.factory, world.video)
    assert (row.completed, row.watched_seconds, row.last_position) == (True, 90, 10)


def test_ninety_percent_of_an_odd_duration_rounds_up(client: Any, world: World) -> None:
    # 90% of 95 s is 85.5 s: 85 s is short of it, 86 s reaches it.
    odd = world.factory.video(world.category, world.admin, duration=95)
    assert save(client, world.token, gid("Video", odd), 85)["completed"] is False
    assert save(client, world.token, gid("Video", odd), 86)["completed"] is True


def test_completion_counts_furthest_point_not_the_current_position(client: Any, world: World) -> None:
    # Watched to 95, rewound: a later save below 90% must not un-complete, nor may one that never
    # reached 90% complete just because watched_seconds was already there.
    save(client, world.token, world.video_id, 95)
    answer = save(client, world.token, world.video_id, 0)
    assert (answer["completed"], answer["watchedSeconds"], answer["lastPosition"]) == (True, 95, 0)


def test_completed_stays_set_when_the_video_grows_longer(client: Any, world: World) -> None:
    # 95 of 100 s completes; at 200 s, 95 s is under 90%, yet completed stays set.
    save(client, world.token, world.video_id, 95)
    with world.factory.bound():
        Video.update(duration_seconds=200).where(Video.id == world.video.id).execute()
    answer = save(client, world.token, world.video_id, 10)
    assert (answer["completed"], answer["watchedSeconds"], answer["durationSeconds"]) == (True, 95, 200)
    [row] = progress_rows(world.factory, world.video)
    assert (row.completed, row.watched_seconds, row.duration_seconds) == (True, 95, 200)


def test_watched_seconds_never_decreases(client: Any, world: World) -> None:
    save(client, world.token, world.video_id, 60)
    answer = save(client, world.token, world.video_id, 20)
    assert (answer["watchedSeconds"], answer["lastPosition"]) == (60, 20)
    assert answer["percentComplete"] == pytest.approx(0.6)
    [row] = progress_rows(world.factory, world.video)
    assert (row.watched_seconds, row.last_position) == (60, 20)


def test_a_save_records_the_videos_current_duration(client: Any, world: World) -> None:
    save(client, world.token, world.video_id, 50)
    with world.factory.bound():
        Video.update(duration_seconds=200).where(Video.id == world.video.id).execute()
    answer = save(client, world.token, world.video_id, 150)
    assert (answer["durationSeconds"], answer["watchedSeconds"], answer["completed"]) == (200, 150, False)
    assert answer["percentComplete"] == pytest.approx(0.75)
    [row] = progress_rows(world.factory, world.video)
    assert (row.duration_seconds, row.watched_seconds) == (200, 150)


def test_saved_progress_shows_in_continue_watching(client: Any, world: World) -> None:
    saved = save(client, world.token, world.video_id, 30)
    data = client.data("{ continueWatching { id lastPosition video { id } } }", token=world.token)
    assert data["continueWatching"] == [
        {"id": saved["id"], "lastPosition": 30, "video": {"id": world.video_id}}
    ]


# --- clearProgress ------------------------------------------------------------------------


def test_clear_progress_deletes_the_row_and_is_idempotent(client: Any, world: World) -> None:
    save(client, world.token, world.video_id, 30)
    other = world.factory.user()
    world.factory.progress(other, world.video, 70)

    answer = client.data(CLEAR, {"id": world.video_id}, token=world.token)["clearProgress"]
    assert answer == {"id": world.video_id, "viewerProgress": None}
    [left] = progress_rows(world.factory, world.video)
    assert left.user_id == other.id  # someone else's progress is theirs
    assert client.data("{ continueWatching { id } }", token=world.token)["continueWatching"] == []
    fetched = client.data(
        "query ($id: ID!) { video(id: $id) { viewerProgress { id } } }",
        {"id": world.video_id},
        token=world.token,
    )
    assert fetched["video"]["viewerProgress"] is None

    again = client.data(CLEAR, {"id": world.video_id}, token=world.token)["clearProgress"]
    assert again == {"id": world.video_id, "viewerProgress": None}
    assert len(progress_rows(world.factory, world.video)) == 1


def test_saving_after_a_clear_starts_from_zero(client: Any, world: World) -> None:
    save(client, world.token, world.video_id, 95)
    client.data(CLEAR, {"id": world.video_id}, token=world.token)
    answer = save(client, world.token, world.video_id, 10)
    assert (answer["watchedSeconds"], answer["completed"]) == (10, False)


# --- react / unreact ----------------------------------------------------------------------


def test_react_sets_then_replaces_the_one_reaction(client: Any, world: World) -> None:
    world.factory.reaction(world.factory.user(), world.video, "love")

    liked = client.data(REACT, {"id": world.video_id, "type": "LIKE"}, token=world.token)["react"]
    assert liked["reactions"]["viewerReaction"] == "LIKE"
    assert liked["reactions"]["total"] == 2
    assert counts(liked) == {**dict.fromkeys(KINDS, 0), "LIKE": 1, "LOVE": 1}
    assert [c["type"] for c in liked["reactions"]["counts"]] == KINDS
    [_, mine] = reaction_rows(world.factory, world.video)
    assert (mine.user_id, mine.reaction_type) == (world.member.id, "like")

    wow = client.data(REACT, {"id": world.video_id, "type": "WOW"}, token=world.token)["react"]
    assert wow["reactions"]["viewerReaction"] == "WOW"
    assert wow["reactions"]["total"] == 2
    assert counts(wow) == {**dict.fromkeys(KINDS, 0), "WOW": 1, "LOVE": 1}
    [_, replaced] = reaction_rows(world.factory, world.video)
    assert replaced.id == mine.id
    assert replaced.reaction_type == "wow"
    assert replaced.updated_at > mine.updated_at
    assert replaced.created_at == mine.created_at


def test_react_again_with_the_same_type_changes_nothing(client: Any, world: World) -> None:
    first = client.data(REACT, {"id": world.video_id, "type": "HAHA"}, token=world.token)["react"]
    [before] = reaction_rows(world.factory, world.video)
    second = client.data(REACT, {"id": world.video_id, "type": "HAHA"}, token=world.token)["react"]
    assert second == first
    [after] = reaction_rows(world.factory, world.video)
    assert columns(after) == columns(before)


def test_unreact_removes_only_the_callers_reaction_and_is_idempotent(client: Any, world: World) -> None:
    other = world.factory.user()
    world.factory.reaction(other, world.video, "sad")
    client.data(REACT, {"id": world.video_id, "type": "LIKE"}, token=world.token)

    answer = client.data(UNREACT, {"id": world.video_id}, token=world.token)["unreact"]
    assert answer["reactions"]["viewerReaction"] is None
    assert answer["reactions"]["total"] == 1
    assert counts(answer) == {**dict.fromkeys(KINDS, 0), "SAD": 1}
    [left] = reaction_rows(world.factory, world.video)
    assert (left.user_id, left.reaction_type) == (other.id, "sad")

    again = client.data(UNREACT, {"id": world.video_id}, token=world.token)["unreact"]
    assert again == answer
    assert len(reaction_rows(world.factory, world.video)) == 1


def test_a_reaction_reads_back_on_later_queries(client: Any, world: World) -> None:
    client.data(REACT, {"id": world.video_id, "type": "ANGRY"}, token=world.token)
    data = client.data(
        f"query ($id: ID!) {{ video(id: $id) {{ {REACTIONS} }} }}", {"id": world.video_id}, token=world.token
    )
    assert data["video"]["reactions"]["viewerReaction"] == "ANGRY"
    assert counts(data["video"])["ANGRY"] == 1


# --- recordView ---------------------------------------------------------------------------


def test_record_view_adds_one_for_anyone_and_keeps_updated_at(client: Any, world: World) -> None:
    before = video_row(world.factory, world.video)
    anonymous = client.data(RECORD_VIEW, {"id": world.video_id})["recordView"]
    assert anonymous["viewCount"] == 8
    member = client.data(RECORD_VIEW, {"id": world.video_id}, token=world.token)["recordView"]
    assert member["viewCount"] == 9
    after = video_row(world.factory, world.video)
    assert after.view_count == 9
    # A play is not an edit: updated_at (which also picks the hero) stays put.
    assert after.updated_at == before.updated_at
    assert member["updatedAt"] == anonymous["updatedAt"]


# --- who may act on what ------------------------------------------------------------------

# (mutation, variables for a video id, whether anonymous callers may use it)
MUTATIONS: dict[str, tuple[str, Any]] = {
    "saveProgress": (SAVE, lambda vid: {"input": {"videoId": vid, "positionSeconds": 10}}),
    "clearProgress": (CLEAR, lambda vid: {"id": vid}),
    "react": (REACT, lambda vid: {"id": vid, "type": "LIKE"}),
    "unreact": (UNREACT, lambda vid: {"id": vid}),
    "recordView": (RECORD_VIEW, lambda vid: {"id": vid}),
}
SIGNED_IN_ONLY = ["saveProgress", "clearProgress", "react", "unreact"]


def snapshot(factory: Any) -> dict[str, Any]:
    """Every row a viewer write could touch."""
    with factory.bound():
        return {
            "videos": sorted((v.id, v.view_count, v.updated_at) for v in Video.select()),
            "progress": sorted(tuple(columns(p).items()) for p in VideoProgress.select()),
            "reactions": sorted(tuple(columns(r).items()) for r in VideoReaction.select()),
        }


@pytest.mark.parametrize("name", SIGNED_IN_ONLY)
def test_anonymous_callers_are_unauthenticated(client: Any, world: World, name: str) -> None:
    query, variables = MUTATIONS[name]
    before = snapshot(world.factory)
    error = client.error(query, variables(world.video_id))
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "sign in" in error["message"]
    assert snapshot(world.factory) == before


@pytest.mark.parametrize("name", list(MUTATIONS))
@pytest.mark.parametrize("target", ["draft", "inactive_category", "missing"])
def test_videos_a_member_cannot_see_are_not_found(client: Any, world: World, name: str, target: str) -> None:
    if target == "draft":
        video_id = gid("Video", world.draft())
    elif target == "inactive_category":
        video_id = gid("Video", world.in_inactive_category())
    else:
        video_id = base64.b64encode(b"Video:987654321").decode()
    # Something to (not) clear or unreact on the hidden video.
    if target != "missing":
        with world.factory.bound():
            hidden = Video.get(Video.title != "Wolves")
        world.factory.progress(world.member, hidden, 30)
        world.factory.reaction(world.member, hidden, "like")
    query, variables = MUTATIONS[name]
    before = snapshot(world.factory)
    for token in (world.token, None) if name == "recordView" else (world.token,):
        error = client.error(query, variables(video_id), token=token)
        assert error["extensions"]["code"] == "NOT_FOUND"
        assert error["message"] == "no such video"
    assert snapshot(world.factory) == before


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_admins_can_act_on_drafts(client: Any, world: World, name: str) -> None:
    draft = world.draft()
    query, variables = MUTATIONS[name]
    answer = client.data(query, variables(gid("Video", draft)), token=world.admin_token)[name]
    with world.factory.bound():
        progress = list(VideoProgress.select().where(VideoProgress.user == world.admin.id))
        reactions = list(VideoReaction.select().where(VideoReaction.user == world.admin.id))
        views = Video.get_by_id(draft.id).view_count
    if name == "saveProgress":
        assert answer["video"]["id"] == gid("Video", draft)
        assert [(p.video_id, p.last_position) for p in progress] == [(draft.id, 10)]
    elif name == "react":
        assert answer["reactions"]["viewerReaction"] == "LIKE"
        assert [(r.video_id, r.reaction_type) for r in reactions] == [(draft.id, "like")]
    elif name == "recordView":
        assert answer["viewCount"] == views == 1
    else:  # clearProgress / unreact on nothing: idempotent, and still nothing
        assert answer["id"] == gid("Video", draft)
        assert progress == [] and reactions == []


@pytest.mark.parametrize("name", list(MUTATIONS))
@pytest.mark.parametrize("bad_id", ["not-an-id", "user"])
def test_ids_that_are_not_video_ids_are_bad_user_input(
    client: Any, world: World, name: str, bad_id: str
) -> None:
    video_id = gid("User", world.member) if bad_id == "user" else bad_id
    query, variables = MUTATIONS[name]
    before = snapshot(world.factory)
    error = client.error(query, variables(video_id), token=world.token)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert snapshot(world.factory) == before


# --- statements ---------------------------------------------------------------------------


def statements(counter: count_queries) -> list[str]:
    return [str(record.msg[0]) for record in counter.get_queries()]


def writes(sqls: list[str]) -> list[str]:
    return [s for s in sqls if s.split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE", "REPLACE")]


def assert_no_read_modify_write(sqls: list[str]) -> None:
    # REPLACE (or INSERT OR REPLACE) deletes and re-inserts: a new id, and cascades.
    assert not any("REPLACE" in s.upper() for s in sqls), sqls
    # No locking read ahead of the write, no transaction around it: the write stands alone.
    assert not any("FOR UPDATE" in s.upper() for s in sqls), sqls
    assert not any(s.upper().startswith(("BEGIN", "START TRANSACTION", "SAVEPOINT")) for s in sqls), sqls


def test_save_progress_is_one_upsert_statement(client: Any, world: World, backend: str) -> None:
    save(client, world.token, world.video_id, 5)  # the row exists: this save takes the update path
    with count_queries() as counter:
        save(client, world.token, world.video_id, 50)
    sqls = statements(counter)
    # token, visibility lookup, the upsert, the row read back with its video joined
    assert counter.count == 4, sqls
    [write] = writes(sqls)
    assert write.startswith("INSERT INTO")
    if backend == "mysql":
        assert "ON DUPLICATE KEY UPDATE" in write
        assert "GREATEST(" in write
    else:
        assert 'ON CONFLICT ("user_id", "video_id") DO UPDATE' in write
        assert "MAX(" in write
    assert_no_read_modify_write(sqls)


def test_clear_progress_is_one_delete_statement(client: Any, world: World) -> None:
    save(client, world.token, world.video_id, 5)
    with count_queries() as counter:
        client.data(CLEAR, {"id": world.video_id}, token=world.token)
    sqls = statements(counter)
    # token, visibility lookup, the delete, the video; viewerProgress is known to be null
    assert counter.count == 4, sqls
    [write] = writes(sqls)
    assert write.startswith("DELETE FROM")
    assert_no_read_modify_write(sqls)


@pytest.mark.parametrize("mutation", ["react", "unreact"])
def test_react_and_unreact_are_one_statement_each(
    client: Any, world: World, backend: str, mutation: str
) -> None:
    client.data(REACT, {"id": world.video_id, "type": "LIKE"}, token=world.token)
    with count_queries() as counter:
        if mutation == "react":
            client.data(REACT, {"id": world.video_id, "type": "LOVE"}, token=world.token)
        else:
            client.data(UNREACT, {"id": world.video_id}, token=world.token)
    sqls = statements(counter)
    # token, visibility lookup, the write, the video, its counts; viewerReaction is known
    assert counter.count == 5, sqls
    [write] = writes(sqls)
    if mutation == "react":
        assert write.startswith("INSERT INTO")
        assert ("ON DUPLICATE KEY UPDATE" if backend == "mysql" else "ON CONFLICT") in write
    else:
        assert write.startswith("DELETE FROM")
    assert_no_read_modify_write(sqls)


def test_record_view_is_one_update_statement(client: Any, world: World) -> None:
    with count_queries() as counter:
        client.data(RECORD_VIEW, {"id": world.video_id})
    sqls = statements(counter)
    # anonymous: no token; visibility lookup, the increment, the video
    assert counter.count == 3, sqls
    [write] = writes(sqls)
    assert write.startswith("UPDATE")
    assert "view_count" in write and "+" in write
    assert_no_read_modify_write(sqls)
