"""The rules for category and video fields, the same for create and update.

Each rule turns a given value into what is stored, or raises BAD_USER_INPUT naming the input
field. A field absent from the input is not checked (update leaves it as it is).
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

from strawberry.utils.str_converters import to_camel_case

from resolvers.curation import Fields
from resolvers.errors import BadUserInput
from resolvers.text import REFUSED_CATEGORIES, describe, has_visible_character, refused_character

MAX_NAME_LENGTH = 100  # video_categories.name is VARCHAR(100)
MAX_SLUG_LENGTH = 100
MAX_TITLE_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 5000
MAX_URL_LENGTH = 2048
MAX_DURATION_SECONDS = 7 * 24 * 3600  # a week: anything longer is a typo, not a video
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1  # video_categories.sort_order is a 32-bit INT

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")

DESCRIPTION_CONTROLS = "\t\n\r"  # a description is several lines; every other field is one

# A URL is stored as it will be written into a page or a player: every character is one RFC 3986
# allows unencoded, except the single quote (a sub-delimiter there, but it ends an HTML attribute).
_URL_CHARACTER = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&()*+,;=%]")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# Path, query and fragment: RFC 3986's pchar, "/" and "?" (brackets only in an IPv6 host, one "#").
_URL_PART = re.compile(r"[A-Za-z0-9\-._~!$&()*+,;=:@/?%]*")
_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})*\.?")

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


def _characters(label: str, value: str, allowed: str = "") -> None:
    """Controls and invisible formatting characters (resolvers/text.py) are refused in every field."""
    problem = refused_character(value, allowed)
    if problem is not None:
        raise BadUserInput(f"{label} contains {problem}, a control or invisible character: remove it")


def _text(max_length: int) -> Rule:
    def rule(label: str, value: str) -> str:
        text = value.strip()
        if not text:
            raise BadUserInput(f"{label} must not be empty")
        if len(text) > max_length:
            raise BadUserInput(f"{label} must be at most {max_length} characters (got {len(text)})")
        _characters(label, text)
        if not has_visible_character(text):
            raise BadUserInput(
                f"{label} must contain a visible character: a letter, digit, punctuation mark or symbol"
            )
        return text

    return rule


def description(label: str, value: str) -> str:
    if len(value) > MAX_DESCRIPTION_LENGTH:
        raise BadUserInput(f"{label} must be at most {MAX_DESCRIPTION_LENGTH} characters (got {len(value)})")
    _characters(label, value, DESCRIPTION_CONTROLS)
    return value


def _unencoded(value: str) -> str | None:
    """Why `value` is not written the way a URL is sent (each character one allowed raw), or None."""
    for i, ch in enumerate(value):
        if _URL_CHARACTER.fullmatch(ch):
            continue
        if unicodedata.category(ch) in REFUSED_CATEGORIES:
            return f"it contains {describe(ch)} at position {i + 1}, a control or invisible character"
        what = repr(ch) if ch.isprintable() else describe(ch)
        hint = " (a host name outside ASCII is written in its xn-- form)" if ord(ch) > 127 else ""
        return f"it contains {what} at position {i + 1}: percent-encode it as {quote(ch, safe='')}{hint}"
    bad_percent = _BAD_PERCENT.search(value)
    if bad_percent is not None:
        return f"the % at position {bad_percent.start() + 1} does not start a %XX escape: write % as %25"
    return None


def _host_problem(netloc: str, hostname: str) -> str | None:
    if "@" in netloc:
        return "it must not carry a user name or password (user:password@): every viewer would see them"
    if netloc.startswith("["):
        try:
            ipaddress.IPv6Address(hostname)
        except ValueError:
            return f"[{hostname}] is not an IPv6 address"
    elif not _HOST_NAME.fullmatch(hostname) or len(hostname) > 253:
        return f"{hostname!r} is not a host name"
    return None


def url(label: str, value: str) -> str:
    """An absolute http(s) URL with a host, written as it is sent: ASCII only, every character
    RFC 3986 does not allow raw (spaces, quotes, <, >, backslash, ...) percent-encoded, and no
    user:password@ (it would be shown to every viewer)."""
    value = value.strip()
    if len(value) > MAX_URL_LENGTH:
        raise BadUserInput(f"{label} must be at most {MAX_URL_LENGTH} characters (got {len(value)})")
    problem = f"{label} must be an absolute http(s) URL such as 'https://media.example.com/v.mp4'"
    unencoded = _unencoded(value)
    if unencoded is not None:
        raise BadUserInput(f"{problem}; {unencoded}")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (reading it is what validates the port)
    except ValueError:
        raise BadUserInput(f"{problem}; {value!r} does not parse") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise BadUserInput(f"{problem}; got {value!r}")
    host_problem = _host_problem(parts.netloc, parts.hostname)
    if host_problem is not None:
        raise BadUserInput(f"{problem}; {host_problem}")
    if not all(_URL_PART.fullmatch(part) for part in (parts.path, parts.query, parts.fragment)):
        raise BadUserInput(f"{problem}; '[', ']' and a second '#' must be percent-encoded (%5B, %5D, %23)")
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
