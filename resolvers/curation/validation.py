"""The rules for category and video fields, the same for create and update.

Each rule turns a given value into what is stored, or raises BAD_USER_INPUT naming the input
field. A field absent from the input is not checked (update leaves it as it is).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from strawberry.utils.str_converters import to_camel_case

from resolvers.curation import Fields
from resolvers.errors import BadUserInput

MAX_NAME_LENGTH = 100  # video_categories.name is VARCHAR(100)
MAX_SLUG_LENGTH = 100
MAX_TITLE_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 5000
MAX_URL_LENGTH = 2048
MAX_DURATION_SECONDS = 7 * 24 * 3600  # a week: anything longer is a typo, not a video
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1  # video_categories.sort_order is a 32-bit INT

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")

# (field) -> stored value; the label is the input field's GraphQL name.
Rule = Callable[[str, Any], Any]


def derive_slug(name: str) -> str:
    """'Café & Bar: Live!' -> 'cafe-bar-live'. Accents are folded to ASCII, everything else that
    is not a letter or digit becomes one dash."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = _NOT_SLUG.sub("-", folded.lower()).strip("-")
    slug = slug[:MAX_SLUG_LENGTH].rstrip("-")
    if not slug:
        raise BadUserInput(
            f"name {name!r} gives no slug (it has no letters a-z or digits): give a slug, "
            "made of lowercase letters, digits and single dashes"
        )
    return slug


def slug(label: str, value: str) -> str:
    if len(value) > MAX_SLUG_LENGTH:
        raise BadUserInput(f"{label} must be at most {MAX_SLUG_LENGTH} characters (got {len(value)})")
    if not SLUG.fullmatch(value):
        raise BadUserInput(
            f"{label} {value!r} is not a valid slug: use lowercase letters a-z, digits and single "
            "dashes between them, like 'nature-documentaries'"
        )
    return value


def _text(max_length: int) -> Rule:
    def rule(label: str, value: str) -> str:
        text = value.strip()
        if not text:
            raise BadUserInput(f"{label} must not be empty")
        if len(text) > max_length:
            raise BadUserInput(f"{label} must be at most {max_length} characters (got {len(text)})")
        return text

    return rule


def description(label: str, value: str) -> str:
    if len(value) > MAX_DESCRIPTION_LENGTH:
        raise BadUserInput(f"{label} must be at most {MAX_DESCRIPTION_LENGTH} characters (got {len(value)})")
    return value


def url(label: str, value: str) -> str:
    value = value.strip()
    if len(value) > MAX_URL_LENGTH:
        raise BadUserInput(f"{label} must be at most {MAX_URL_LENGTH} characters (got {len(value)})")
    problem = f"{label} must be an absolute http(s) URL such as 'https://media.example.com/v.mp4'"
    if _SPACE_OR_CONTROL.search(value):
        raise BadUserInput(f"{problem}; it contains spaces or control characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (reading it is what validates the port)
    except ValueError:
        raise BadUserInput(f"{problem}; {value!r} does not parse") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise BadUserInput(f"{problem}; got {value!r}")
    return value


def duration(label: str, value: int) -> int:
    if not 0 <= value <= MAX_DURATION_SECONDS:
        raise BadUserInput(f"{label} must be between 0 and {MAX_DURATION_SECONDS} seconds (got {value})")
    return value


def int32(label: str, value: int) -> int:
    if not INT32_MIN <= value <= INT32_MAX:
        raise BadUserInput(f"{label} must be between {INT32_MIN} and {INT32_MAX} (got {value})")
    return value


def as_is(label: str, value: Any) -> Any:
    return value


# column -> (nullable, rule). The input fields are named after the columns.
CATEGORY_RULES: dict[str, tuple[bool, Rule]] = {
    "name": (False, _text(MAX_NAME_LENGTH)),
    "slug": (False, slug),
    "sort_order": (False, int32),
    "is_active": (False, as_is),
}

VIDEO_RULES: dict[str, tuple[bool, Rule]] = {
    "title": (False, _text(MAX_TITLE_LENGTH)),
    "description": (True, description),
    "category_id": (False, as_is),  # a primary key, parsed from its global ID by the schema
    "video_url": (False, url),
    "thumbnail_url": (True, url),
    "caption_url": (True, url),
    "duration_seconds": (False, duration),
    "published": (False, as_is),
    "is_hero": (False, as_is),
}


def _columns(fields: Fields, rules: dict[str, tuple[bool, Rule]]) -> dict[str, Any]:
    columns: dict[str, Any] = {}
    for column, (nullable, rule) in rules.items():  # rule order: the first bad field is reported
        if column not in fields:
            continue
        label = to_camel_case(column)
        value = fields[column]
        if value is None:
            if not nullable:
                raise BadUserInput(f"{label} cannot be null: leave it out instead")
            columns[column] = None
        else:
            columns[column] = rule(label, value)
    return columns


def category_columns(fields: Fields, creating: bool) -> dict[str, Any]:
    """Stored values of a category input. Creating, a missing or null slug is derived from the name;
    updating, the slug changes only when given (renaming keeps links working)."""
    if creating and fields.get("slug") is None:
        columns = _columns({k: v for k, v in fields.items() if k != "slug"}, CATEGORY_RULES)
        columns["slug"] = derive_slug(columns["name"])
        return columns
    return _columns(fields, CATEGORY_RULES)


def video_columns(fields: Fields) -> dict[str, Any]:
    return _columns(fields, VIDEO_RULES)
