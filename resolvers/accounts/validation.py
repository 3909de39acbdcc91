"""Account input rules, shared by the register mutation and the create-user command."""

from __future__ import annotations

import re

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024  # argon2 hashes anything, but a megabyte password is an attack
MAX_DISPLAY_NAME_LENGTH = 100
MAX_EMAIL_LENGTH = 254

# Deliberately loose: one @, no spaces, a dot in the domain. Deliverability is the mailer's job.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ValidationError(ValueError):
    """Input that breaks a rule; the message says which and how to fix it."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def validate_registration(email: str, password: str, display_name: str) -> None:
    """Check normalised input; raises ValidationError with a message a person can act on."""
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise ValidationError(f"{email!r} is not a valid email address")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters long")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError(f"the password must be at most {MAX_PASSWORD_LENGTH} characters long")
    name = display_name.strip()
    if not name:
        raise ValidationError("the display name must not be empty")
    if len(name) > MAX_DISPLAY_NAME_LENGTH:
        raise ValidationError(f"the display name must be at most {MAX_DISPLAY_NAME_LENGTH} characters long")
