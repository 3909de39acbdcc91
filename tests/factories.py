"""Test data, written with the sync database whatever the proxy is bound to at the moment."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import peewee

from models import ALL_MODELS, AccessToken, User, Video, VideoCategory, VideoProgress, VideoReaction, utcnow
from resolvers.accounts.tokens import expiry, new_token, token_hash
from resolvers.passwords import hash_password
from schema.ids import global_id

_seq = itertools.count(1)
# Hashing with argon2 is slow on purpose; tests that do not log in share one hash.
_PASSWORD = "password123"
_PASSWORD_HASH = hash_password(_PASSWORD)


class Factory:
    def __init__(self, db: peewee.Database, secret_key: bytes) -> None:
        self.db = db
        self.secret_key = secret_key

    @contextmanager
    def bound(self) -> Iterator[None]:
        with self.db.bind_ctx(ALL_MODELS):
            yield

    def user(self, role: str = "member", email: str | None = None, name: str | None = None) -> User:
        n = next(_seq)
        with self.bound():
            return User.create(
                email=email or f"user{n}@example.com",
                password_hash=_PASSWORD_HASH,
                display_name=name or f"User {n}",
                role=role,
            )

    def admin(self) -> User:
        return self.user(role="admin")

    def token(self, user: User, ttl: int = 3600) -> str:
        """A bearer token issued the way the server issues them."""
        token = new_token()
        with self.bound():
            AccessToken.create(
                user=user.id,
                token_hash=token_hash(self.secret_key, token),
                expires_at=expiry(utcnow(), ttl),
            )
        return token

    def category(self, name: str | None = None, active: bool = True, sort_order: int = 0) -> VideoCategory:
        n = next(_seq)
        name = name or f"Category {n}"
        with self.bound():
            return VideoCategory.create(
                name=name,
                slug=f"{name.lower().replace(' ', '-')}-{n}",
                is_active=active,
                sort_order=sort_order,
            )

    def video(
        self,
        category: VideoCategory,
        uploader: User,
        title: str | None = None,
        published: bool = True,
        views: int = 0,
        duration: int = 600,
        created_at: dt.datetime | None = None,
        **extra: Any,
    ) -> Video:
        n = next(_seq)
        now = created_at or utcnow()
        with self.bound():
            return Video.create(
                title=title or f"Video {n}",
                category=category.id,
                uploaded_by=uploader.id,
                video_url=f"https://media.example.com/{n}.mp4",
                duration_seconds=duration,
                view_count=views,
                published=published,
                created_at=now,
                **extra,
            )

    def progress(self, user: User, video: Video, position: int, completed: bool = False) -> VideoProgress:
        with self.bound():
            return VideoProgress.create(
                user=user.id,
                video=video.id,
                watched_seconds=position,
                last_position=position,
                duration_seconds=video.duration_seconds,
                completed=completed,
            )

    def reaction(self, user: User, video: Video, kind: str = "like") -> VideoReaction:
        with self.bound():
            return VideoReaction.create(user=user.id, video=video.id, reaction_type=kind)


def gid(kind: str, row: Any) -> str:
    return global_id(kind, row.id)
