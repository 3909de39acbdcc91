"""MariaDB's utf8mb4_general_ci in Python: which two strings the users table takes for one email.

On MariaDB the email column's collation decides which emails are one account: the unique index
refuses a second, and a lookup finds the first. SQLite has no such collation, so that rule is
reproduced here, one character at a time as general_ci compares them (one weight per character,
no expansions): case is folded, accents are dropped from Latin, Greek and Cyrillic letters, ß is
s, and every character outside the Basic Multilingual Plane weighs the same.

Checked against MariaDB's WEIGHT_STRING for every code point (tests/test_login_throttle.py checks
the Latin, Greek and Cyrillic blocks on each run): whenever general_ci takes two characters for
one, so does `general_ci_key`. It is stricter in a few places (the lunate epsilon, some historic
Cyrillic letter forms, Greek spacing accents), where MariaDB tells apart what this joins.
"""

from __future__ import annotations

import functools
import unicodedata

# Where general_ci's table differs from "drop the accents, fold the case".
# Escaped, as several look like Latin letters they are not.
_SPECIAL = {
    "\u00df": "s",  # sharp s: S in general_ci; casefold would give two characters
    "\u0131": "i",  # dotless i: I in general_ci, itself for casefold
    "\u03f2": "\u03c3",  # lunate sigma: sigma
    "\u0439": "\u0439",  # Cyrillic short i keeps its breve in general_ci (unlike yo, short u...)
    "\u0419": "\u0439",
}
# general_ci gives every character beyond U+FFFF the weight of U+FFFD.
_BEYOND_BMP = "\ufffd"
_STRIPPED_SCRIPTS = ("LATIN ", "GREEK ", "CYRILLIC ")


@functools.lru_cache(maxsize=4096)
def _weight(ch: str) -> str:
    special = _SPECIAL.get(ch)
    if special is not None:
        return special
    if ord(ch) > 0xFFFF:
        return _BEYOND_BMP
    decomposed = unicodedata.normalize("NFD", ch)
    base = decomposed[0]
    if (
        len(decomposed) > 1
        and all(unicodedata.category(mark) == "Mn" for mark in decomposed[1:])
        and unicodedata.name(base, "").startswith(_STRIPPED_SCRIPTS)
    ):
        ch = base
    folded = ch.casefold()
    # A fold to several characters (ﬁ, ŉ) is an expansion, which general_ci never makes.
    return folded if len(folded) == 1 else ch


def general_ci_key(text: str) -> str:
    """One string per general_ci equivalence class: equal keys for strings MariaDB takes as
    equal. As long as `text`, character for character (so a SQL query may compare lengths first).
    Trailing spaces are kept: general_ci ignores them, but emails are stripped before any use."""
    if text.isascii():
        return text.lower()  # the same, at C speed: most emails, and SQLite's lookups read them all
    return "".join(_weight(ch) for ch in text)
