from __future__ import annotations

from typing import TYPE_CHECKING

import peewee

from models.accounts import User
from models.base import TimestampedModel
from models.categories import VideoCategory


class Video(TimestampedModel):
    id = peewee.AutoField()
    title = peewee.CharField(max_length=200)
    description = peewee.TextField(null=True)
    category = peewee.ForeignKeyField(VideoCategory, on_delete="RESTRICT", backref="videos")
    video_url = peewee.CharField(max_length=2048)
    thumbnail_url = peewee.CharField(max_length=2048, null=True)
    caption_url = peewee.CharField(max_length=2048, null=True)
    duration_seconds = peewee.IntegerField()
    view_count = peewee.BigIntegerField(default=0)
    is_hero = peewee.BooleanField(default=False, index=True)
    published = peewee.BooleanField(default=False, index=True)
    uploaded_by = peewee.ForeignKeyField(
        User, column_name="uploaded_by", on_delete="RESTRICT", backref="uploads"
    )

    if TYPE_CHECKING:  # the foreign keys' raw id accessors, which peewee adds at runtime
        category_id: int
        uploaded_by_id: int

    class Meta:
        table_name = "videos"
        indexes = (
            (("created_at",), False),
            # The contract's index: a category row ordered by popularity.
            (("published", "category_id", "view_count"), False),
            # POPULAR breaks view-count ties by recency, so its pages walk these.
            (("published", "category_id", "view_count", "created_at"), False),
            # Keyset pagination for the other orders, per category and across the catalogue.
            (("published", "category_id", "created_at"), False),
            (("published", "category_id", "title"), False),
            (("published", "view_count", "created_at"), False),
            (("published", "created_at"), False),
            (("published", "title"), False),
        )
