"""What the database itself enforces: RESTRICT, CASCADE, UNIQUE, CHECK and DATETIME(6)."""

from __future__ import annotations

import datetime as dt
import itertools
from contextlib import contextmanager

import peewee
import pytest

from models import (
    AccessToken,
    User,
    Video,
    VideoCategory,
    VideoProgress,
    VideoReaction,
    utcnow,
)

_seq = itertools.count(1)
STAMP = dt.datetime(2024, 5, 6, 7, 8, 9, 123456)


def make_user(**fields: object) -> User:
    n = next(_seq)
    fields = {"email": f"user{n}@example.com", "password_hash": "x", "display_name": f"U{n}", **fields}
    return User.create(**fields)


def make_category() -> VideoCategory:
    n = next(_seq)
    return VideoCategory.create(name=f"Category {n}", slug=f"category-{n}")


def make_video(category: VideoCategory, uploader: User) -> Video:
    return Video.create(
        title=f"Video {next(_seq)}",
        category=category,
        video_url="https://v.example/a.mp4",
        duration_seconds=60,
        uploaded_by=uploader,
    )


def make_token(user: User) -> AccessToken:
    return AccessToken.create(
        user=user, token_hash=f"{next(_seq):064d}", expires_at=utcnow() + dt.timedelta(days=1)
    )


@contextmanager
def refused(db: peewee.Database):
    """The statement inside must fail with IntegrityError; its transaction is rolled back."""
    with pytest.raises(peewee.IntegrityError), db.atomic():
        yield


# A CHECK violation is IntegrityError on SQLite; PyMySQL raises OperationalError for it, with
# MySQL's ER_CHECK_CONSTRAINT_VIOLATED (3819) or MariaDB's ER_CONSTRAINT_FAILED (4025).
CHECK_ERRNOS = {3819, 4025}


@contextmanager
def check_refused(db: peewee.Database):
    with pytest.raises((peewee.IntegrityError, peewee.OperationalError)) as info, db.atomic():
        yield
    if isinstance(info.value, peewee.OperationalError):
        assert info.value.args[0] in CHECK_ERRNOS, info.value


def count(model: type[peewee.Model], *where: object) -> int:
    query = model.select()
    return (query.where(*where) if where else query).count()


# --- ON DELETE RESTRICT -------------------------------------------------------------------


def test_restrict_category_with_videos(db: peewee.Database) -> None:
    category = make_category()
    video = make_video(category, make_user())
    with refused(db):
        VideoCategory.delete().where(VideoCategory.id == category.id).execute()
    assert count(VideoCategory, VideoCategory.id == category.id) == 1
    assert count(Video, Video.id == video.id) == 1


def test_restrict_user_who_uploaded_videos(db: peewee.Database) -> None:
    uploader = make_user()
    video = make_video(make_category(), uploader)
    with refused(db):
        User.delete().where(User.id == uploader.id).execute()
    assert count(User, User.id == uploader.id) == 1
    assert count(Video, Video.id == video.id) == 1


# --- ON DELETE CASCADE --------------------------------------------------------------------


def test_deleting_video_cascades_to_progress_and_reactions(db: peewee.Database) -> None:
    uploader, viewer = make_user(), make_user()
    category = make_category()
    doomed, kept = make_video(category, uploader), make_video(category, uploader)
    for video in (doomed, kept):
        VideoProgress.create(user=viewer, video=video, watched_seconds=10)
        VideoReaction.create(user=viewer, video=video, reaction_type="love")

    assert Video.delete().where(Video.id == doomed.id).execute() == 1

    assert count(VideoProgress, VideoProgress.video == doomed.id) == 0
    assert count(VideoReaction, VideoReaction.video == doomed.id) == 0
    assert count(VideoProgress, VideoProgress.video == kept.id) == 1
    assert count(VideoReaction, VideoReaction.video == kept.id) == 1


def test_deleting_user_cascades_to_progress_reactions_and_tokens(db: peewee.Database) -> None:
    video = make_video(make_category(), make_user())
    doomed, kept = make_user(), make_user()
    for user in (doomed, kept):
        VideoProgress.create(user=user, video=video)
        VideoReaction.create(user=user, video=video, reaction_type="wow")
        make_token(user)

    assert User.delete().where(User.id == doomed.id).execute() == 1

    for model in (VideoProgress, VideoReaction, AccessToken):
        assert count(model, model.user == doomed.id) == 0, model.__name__
        assert count(model, model.user == kept.id) == 1, model.__name__
    assert count(Video, Video.id == video.id) == 1


# --- UNIQUE (user_id, video_id) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "fields"),
    [(VideoProgress, {}), (VideoReaction, {"reaction_type": "like"})],
    ids=["video_progress", "video_reactions"],
)
def test_one_row_per_user_and_video(db: peewee.Database, model, fields) -> None:
    user, uploader = make_user(), make_user()
    video = make_video(make_category(), uploader)
    model.create(user=user, video=video, **fields)
    other_fields = {"reaction_type": "sad"} if fields else {"watched_seconds": 5}
    with refused(db):
        model.create(user=user, video=video, **other_fields)
    assert count(model) == 1
    # The same video for another user, or another video for the same user, is fine.
    model.create(user=uploader, video=video, **fields)
    model.create(user=user, video=make_video(video.category, uploader), **fields)
    assert count(model) == 3


# --- CHECK constraints --------------------------------------------------------------------


@pytest.mark.parametrize("reaction_type", ["LIKE", "meh", ""])
def test_check_refuses_unknown_reaction_type(db: peewee.Database, reaction_type: str) -> None:
    user = make_user()
    video = make_video(make_category(), user)
    with check_refused(db):
        VideoReaction.create(user=user, video=video, reaction_type=reaction_type)
    assert count(VideoReaction) == 0


def test_check_accepts_every_reaction_type(db: peewee.Database) -> None:
    video = make_video(make_category(), make_user())
    for reaction_type in ("like", "love", "haha", "wow", "sad", "angry"):
        VideoReaction.create(user=make_user(), video=video, reaction_type=reaction_type)
    assert count(VideoReaction) == 6


@pytest.mark.parametrize("role", ["owner", "ADMIN"])
def test_check_refuses_unknown_role(db: peewee.Database, role: str) -> None:
    with check_refused(db):
        make_user(role=role)
    assert count(User) == 0
    assert make_user(role="admin").role == "admin"


# --- Timestamps ---------------------------------------------------------------------------


def test_timestamps_keep_microseconds(db: peewee.Database) -> None:
    # insert(), not create(): save() would overwrite updated_at with the current time.
    user_id = User.insert(
        email="micro@example.com",
        password_hash="x",
        display_name="M",
        created_at=STAMP,
        updated_at=STAMP,
    ).execute()
    category_id = VideoCategory.insert(
        name="Micro", slug="micro", created_at=STAMP, updated_at=STAMP + dt.timedelta(microseconds=1)
    ).execute()

    user = User.get_by_id(user_id)
    assert (user.created_at, user.updated_at) == (STAMP, STAMP)
    category = VideoCategory.get_by_id(category_id)
    assert category.created_at == STAMP
    assert category.updated_at == dt.datetime(2024, 5, 6, 7, 8, 9, 123457)
    # Ordering at microsecond resolution happens in the database, on both backends.
    assert count(VideoCategory, VideoCategory.updated_at > STAMP) == 1
    assert count(User, User.updated_at > STAMP) == 0


def test_update_statement_refreshes_updated_at(db: peewee.Database) -> None:
    old = dt.datetime(2001, 1, 1, 0, 0, 0, 1)
    category_id = VideoCategory.insert(name="Old", slug="old", created_at=old, updated_at=old).execute()

    before = utcnow()
    VideoCategory.update(name="New").where(VideoCategory.id == category_id).execute()
    after = utcnow()

    category = VideoCategory.get_by_id(category_id)
    assert category.name == "New"
    assert category.created_at == old
    assert before <= category.updated_at <= after

    # An explicit updated_at is honoured, not overwritten.
    VideoCategory.update(name="Newer", updated_at=STAMP).where(VideoCategory.id == category_id).execute()
    assert VideoCategory.get_by_id(category_id).updated_at == STAMP


def test_save_refreshes_updated_at(db: peewee.Database) -> None:
    category = make_category()
    VideoCategory.update(updated_at=STAMP).where(VideoCategory.id == category.id).execute()
    category = VideoCategory.get_by_id(category.id)
    assert category.updated_at == STAMP
    before = utcnow()
    category.name = "Renamed"
    category.save()
    assert before <= VideoCategory.get_by_id(category.id).updated_at <= utcnow()
