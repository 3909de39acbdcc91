from __future__ import annotations

from typing import TYPE_CHECKING

import peewee

from models.accounts import User
from models.base import TimestampedModel
from models.videos import Video

# Stored lowercase; the GraphQL enum is the same list in upper case, in this order.
REACTION_TYPES = ("like", "love", "haha", "wow", "sad", "angry")


class VideoReaction(TimestampedModel):
    id = peewee.BigAutoField()
    user = peewee.ForeignKeyField(User, on_delete="CASCADE", backref="reactions")
    video = peewee.ForeignKeyField(Video, on_delete="CASCADE", backref="reactions")
    # The migration adds a case-sensitive CHECK for REACTION_TYPES.
    reaction_type = peewee.CharField(max_length=10)

    if TYPE_CHECKING:  # the foreign keys' raw id accessors, which peewee adds at runtime
        user_id: int
        video_id: int

    class Meta:
        table_name = "video_reactions"
        indexes = (
            (("user_id", "video_id"), True),
            (("video_id", "reaction_type"), False),
        )
