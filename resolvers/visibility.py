"""The contract's visibility rule, in one place: anonymous callers and members see active
categories, and published videos in active categories; admins see everything."""

from __future__ import annotations

from typing import TypeVar

import peewee

from models import Video, VideoCategory
from resolvers.accounts.viewer import Viewer

Q = TypeVar("Q", bound=peewee.Query)


def is_admin(viewer: Viewer | None) -> bool:
    return viewer is not None and viewer.is_admin


def only_visible_videos(query: Q, viewer: Viewer | None) -> Q:
    """Restrict a query over Video that is joined to VideoCategory."""
    if is_admin(viewer):
        return query
    return query.where((Video.published == True) & (VideoCategory.is_active == True))  # noqa: E712


def only_visible_categories(query: Q, viewer: Viewer | None) -> Q:
    if is_admin(viewer):
        return query
    return query.where(VideoCategory.is_active == True)  # noqa: E712
