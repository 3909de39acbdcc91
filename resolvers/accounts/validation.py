"""Account input rules, shared by the register mutation and the create-user command."""

from __future__ import annotations

import re
import unicodedata

from models.collation import general_ci_key
from models.demo import DEMO_UPLOADER
from resolvers.text import fold, has_visible_character, refused_character

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024  # argon2 hashes anything, but a megabyte password is an attack
MAX_DISPLAY_NAME_LENGTH = 100
MAX_EMAIL_LENGTH = 254

# Deliberately loose: one @, no spaces, a dot in the domain. Deliverability is the mailer's job.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Names only the operator's own accounts may look like: the demo catalogue's uploader and the
# product. Compared after resolvers.text.fold, so spacing, case, accents, punctuation and
# invisible characters do not make a copy.
RESERVED_DISPLAY_NAMES = (DEMO_UPLOADER[1], "VideoLib")
_RESERVED = frozenset(fold(name) for name in RESERVED_DISPLAY_NAMES)


class ValidationError(ValueError):
    """Input that breaks a rule; the message says which and how to fix it."""


def normalise_email(email: str) -> str:
    """The form an email is stored and looked up in. NFC first, so an accent typed as a letter
    plus a combining mark (as macOS keyboards may send it) is the same email as the precomposed
    letter: both for the database and for whoever reads it."""
    return unicodedata.normalize("NFC", email.strip()).lower()


def email_key(email: str) -> str:
    """What makes two normalised emails one account: their utf8mb4_general_ci key
    (models/collation.py). MariaDB's unique index and lookups compare emails that way; SQLite's
    register, create-user and login compare this key, so one rule holds on both backends:
    josé@example.com, JOSE@example.com and jose@example.com are one account."""
    return general_ci_key(email)


def validate_registration(email: str, password: str, display_name: str) -> None:
    """Check normalised input; raises ValidationError with a message a person can act on."""
    # Before the shape, so a NUL or U+202E is named rather than hidden behind "not a valid email
    # address". Stricter than for names: no joiners and no blank letters, as an address is typed
    # and compared, never composed of emoji or of another script's ligatures.
    problem = refused_character(email, joiners=False, blanks=True)
    if problem is not None:
        raise ValidationError(f"email contains {problem}, a control or invisible character: remove it")
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise ValidationError(f"{email!r} is not a valid email address")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters long")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError(f"the password must be at most {MAX_PASSWORD_LENGTH} characters long")
    # Any character may be in a password: it is never shown, only hashed as UTF-8. Only what UTF-8
    # cannot hold is refused (a lone surrogate, as undecodable bytes in a command-line argument).
    if any("\ud800" <= ch <= "\udfff" for ch in password):
        raise ValidationError("the password contains a byte sequence that is not UTF-8: type it again")
    name = display_name.strip()
    if not name:
        raise ValidationError("the display name must not be empty")
    if len(name) > MAX_DISPLAY_NAME_LENGTH:
        raise ValidationError(f"the display name must be at most {MAX_DISPLAY_NAME_LENGTH} characters long")
    validate_display_name(name)


def validate_display_name(name: str) -> None:
    """The characters of a trimmed display name: no control or invisible ones (resolvers/text.py),
    something visible, and no copy of a reserved name."""
    problem = refused_character(name)
    if problem is not None:
        raise ValidationError(f"displayName contains {problem}, a control or invisible character: remove it")
    if not has_visible_character(name):
        raise ValidationError(
            "displayName must contain a visible character: a letter, digit, punctuation mark or symbol"
        )
    if fold(name) in _RESERVED:
        raise ValidationError(f"displayName {name!r} is reserved for the operator's accounts: pick another")
