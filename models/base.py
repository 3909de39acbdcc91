"""The base model, the clock, and the field types every table shares."""

from __future__ import annotations

import datetime as dt
from typing import Any

import peewee

from models.database import database_proxy


def utcnow() -> dt.datetime:
    """Naive UTC: what the DATETIME(6) columns hold."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class DateTimeMicroField(peewee.DateTimeField):
    """DATETIME(6): peewee's DateTimeField is whole seconds on MySQL, and time order must be exact."""

    def get_modifiers(self) -> list[int]:
        return [6]

    def db_value(self, value: Any) -> Any:
        # Always write the microseconds, so SQLite's text comparison orders like MySQL does
        # (str(datetime) drops ".000000", which compares wrongly against "…00.5").
        if isinstance(value, dt.datetime):
            if value.tzinfo is not None:
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
            return value.strftime("%Y-%m-%d %H:%M:%S.%f")
        return super().db_value(value)


class BaseModel(peewee.Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


class TimestampedModel(BaseModel):
    created_at = DateTimeMicroField(default=utcnow)
    updated_at = DateTimeMicroField(default=utcnow, index=False)

    def save(self, *args: Any, **kwargs: Any) -> Any:
        self.updated_at = utcnow()
        return super().save(*args, **kwargs)

    @classmethod
    def update(cls, __data: Any = None, **update: Any) -> peewee.ModelUpdate:
        # Every UPDATE statement keeps updated_at current, not just save().
        data = {**(__data or {}), **update}
        if not any(getattr(key, "name", key) == "updated_at" for key in data):
            data["updated_at"] = utcnow()
        return super().update(data)
