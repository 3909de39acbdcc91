"""Which characters a stored text may hold: one rule for every string a mutation or command stores.

Refused everywhere: controls (Unicode category Cc: NUL, escape, ...), format characters (Cf: the
bidi overrides and isolates such as U+202E, zero-width space, word joiner, soft hyphen, BOM, ...),
surrogates (Cs, which UTF-8 cannot hold) and the line and paragraph separators (Zl, Zp). They are
invisible, or reorder what is shown around them, so they serve only to make two texts look alike
or to make one text look like another.

Two exceptions keep real text working, because Unicode needs these format characters:
- ZERO WIDTH JOINER and ZERO WIDTH NON-JOINER between two visible characters (a letter, mark,
  digit, punctuation or symbol). Emoji sequences (U+1F469 U+200D U+1F4BB, a woman technologist)
  and Persian, Indic and other scripts use them there. Anywhere else (alone, at either end, next
  to a space or to another joiner) they join nothing and are refused.
- the tag characters of an emoji subdivision flag: U+1F3F4, then tags, then CANCEL TAG (the flags
  of England, Scotland and Wales).
A field may allow more of its own: a description allows tab, line feed and carriage return.
"""

from __future__ import annotations

import re
import unicodedata

REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
JOINERS = frozenset({"\u200c", "\u200d"})  # ZERO WIDTH NON-JOINER, ZERO WIDTH JOINER
_TAG_SEQUENCE = re.compile("\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f")
# Letters and symbols that render as nothing (Default_Ignorable fillers, and the braille blank):
# a name made of them looks empty.
BLANKS = frozenset({"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"})


def describe(ch: str) -> str:
    """'U+202E RIGHT-TO-LEFT OVERRIDE', for a message; controls have no Unicode name."""
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'CONTROL CHARACTER')}"


def _joins(left: str, right: str) -> bool:
    return unicodedata.category(left)[0] in "LMNPS" and unicodedata.category(right)[0] in "LMNPS"


def refused_character(text: str, allowed: str = "", joiners: bool = True, blanks: bool = False) -> str | None:
    """The first character of `text` the rule above refuses, described for a message ('U+0000
    CONTROL CHARACTER at position 4', counting from 1), or None when there is none. `allowed` are
    characters the field accepts besides; `joiners=False` refuses the joiners wherever they are,
    and `blanks=True` refuses BLANKS too."""
    # Every refused category is unprintable (BLANKS are not): the common case costs one pass.
    if text.isprintable() and not (blanks and BLANKS.intersection(text)):
        return None
    in_flags = {i for m in _TAG_SEQUENCE.finditer(text) for i in range(m.start() + 1, m.end())}
    last = len(text) - 1
    for i, ch in enumerate(text):
        if blanks and ch in BLANKS:
            return f"{describe(ch)} at position {i + 1}"
        if ch in allowed or unicodedata.category(ch) not in REFUSED_CATEGORIES or i in in_flags:
            continue
        if joiners and ch in JOINERS and 0 < i < last and _joins(text[i - 1], text[i + 1]):
            continue
        return f"{describe(ch)} at position {i + 1}"
    return None


def has_visible_character(text: str) -> bool:
    """Whether something of `text` shows: a letter, digit, punctuation or symbol that is not blank.
    Spaces, marks and format characters alone show nothing."""
    return any(unicodedata.category(ch)[0] in "LNPS" and ch not in BLANKS for ch in text)


def fold(text: str) -> str:
    """What two names have in common when they look alike to a reader: compatibility forms
    (fullwidth, ligatures, superscripts) replaced by their plain letters, accents dropped, case
    folded, and everything but letters and digits (spaces, punctuation, format characters)
    removed. 'Vídeo-Lib  STUDIO' and 'VideoLib Studio' both fold to 'videolibstudio'."""
    decomposed = unicodedata.normalize("NFKD", text).casefold()
    return "".join(ch for ch in unicodedata.normalize("NFKD", decomposed) if ch.isalnum())
