from __future__ import annotations

import peewee

from models.base import TimestampedModel


class VideoCategory(TimestampedModel):
    id = peewee.AutoField()
    name = peewee.CharField(max_length=100)
    slug = peewee.CharField(max_length=100, unique=True)
    sort_order = peewee.IntegerField(default=0, index=True)
    is_active = peewee.BooleanField(default=True)

    class Meta:
        table_name = "video_categories"
