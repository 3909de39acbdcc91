"""DateTime: ISO-8601 in UTC with an offset, always to the microsecond, so clients can order by it."""

from __future__ import annotations

import datetime as dt

import strawberry


def serialize_datetime(value: dt.datetime) -> str:
    if value.tzinfo is None:  # the database holds naive UTC
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def parse_datetime(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("DateTime values need an offset, e.g. 2026-01-01T00:00:00+00:00")
    return parsed.astimezone(dt.UTC)


DateTime = strawberry.scalar(
    name="DateTime",
    description="A point in time: ISO-8601 in UTC with an offset, to the microsecond, e.g. "
    "2026-01-01T12:00:00.000000+00:00. Input values must carry an offset.",
    serialize=serialize_datetime,
    parse_value=parse_datetime,
)

SCALAR_OVERRIDES = {dt.datetime: DateTime}
