"""Admin curation: creating, changing and deleting categories and videos.

Inputs arrive as a dict of the fields the client gave (keyed by column name): a missing key is
"leave as it is", None is an explicit null.
"""

from __future__ import annotations

from typing import Any

import peewee

Fields = dict[str, Any]

# MySQL/MariaDB error numbers; SQLite only says it in the message.
DUPLICATE_ENTRY = 1062
ROW_IS_REFERENCED = 1451  # deleting a parent that children still point at
NO_REFERENCED_ROW = 1452  # a child pointing at a parent that does not exist
OUT_OF_RANGE = 1264  # a value the column's type cannot hold


def _errno(exc: peewee.DatabaseError) -> int | None:
    code = exc.args[0] if exc.args else None
    return code if isinstance(code, int) else None


def is_duplicate(exc: peewee.IntegrityError) -> bool:
    return _errno(exc) == DUPLICATE_ENTRY or "UNIQUE constraint failed" in str(exc)


def is_foreign_key_violation(exc: peewee.DatabaseError) -> bool:
    if _errno(exc) in (ROW_IS_REFERENCED, NO_REFERENCED_ROW):
        return True
    return "FOREIGN KEY constraint failed" in str(exc)


def is_out_of_range(exc: peewee.DatabaseError, column: str) -> bool:
    """MySQL refusing a value too big for `column`. A key column is a 32-bit INT there (64-bit on
    SQLite), so a global ID can carry a key that no row can have."""
    return _errno(exc) == OUT_OF_RANGE and f"'{column}'" in str(exc)
