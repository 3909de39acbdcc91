from __future__ import annotations

from typing import TYPE_CHECKING

import peewee

from models.accounts import User
from models.base import TimestampedModel
from models.videos import Video


class VideoProgress(TimestampedModel):
    # BIGINT: on MySQL every upsert may use up an auto-increment value.
    id = peewee.BigAutoField()
    user = peewee.ForeignKeyField(User, on_delete="CASCADE", backref="progress")
    video = peewee.ForeignKeyField(Video, on_delete="CASCADE", backref="progress")
    watched_seconds = peewee.IntegerField(default=0)
    duration_seconds = peewee.IntegerField(default=0)
    last_position = peewee.IntegerField(default=0)
    completed = peewee.BooleanField(default=False)

    if TYPE_CHECKING:  # the foreign keys' raw id accessors, which peewee adds at runtime
        user_id: int
        video_id: int

    class Meta:
        table_name = "video_progress"
        indexes = (
            (("user_id", "video_id"), True),
            (("user_id", "completed", "updated_at"), False),
        )
