"""The migrated schema, read back through each database's own catalogue, against the contract."""

from __future__ import annotations

import peewee
import pytest

NULLABLE = {("videos", "description"), ("videos", "thumbnail_url"), ("videos", "caption_url")}

# Written out from /work/shared/contract/cli-and-tables.md.
EXPECTED = {
    "users": {
        "columns": {"id", "email", "password_hash", "display_name", "role", "created_at", "updated_at"},
        "foreign_keys": set(),
        "unique": [("email",)],
        "indexes": [],
    },
    "video_categories": {
        "columns": {"id", "name", "slug", "sort_order", "is_active", "created_at", "updated_at"},
        "foreign_keys": set(),
        "unique": [("slug",)],
        "indexes": [("sort_order",)],
    },
    "videos": {
        "columns": {
            "id",
            "title",
            "description",
            "category_id",
            "video_url",
            "thumbnail_url",
            "caption_url",
            "duration_seconds",
            "view_count",
            "is_hero",
            "published",
            "uploaded_by",
            "created_at",
            "updated_at",
        },
        "foreign_keys": {
            ("category_id", "video_categories", "id", "RESTRICT"),
            ("uploaded_by", "users", "id", "RESTRICT"),
        },
        "unique": [],
        "indexes": [
            ("category_id",),
            ("uploaded_by",),
            ("published",),
            ("is_hero",),
            ("created_at",),
            ("published", "category_id", "view_count"),
        ],
    },
    "video_progress": {
        "columns": {
            "id",
            "user_id",
            "video_id",
            "watched_seconds",
            "duration_seconds",
            "last_position",
            "completed",
            "created_at",
            "updated_at",
        },
        "foreign_keys": {
            ("user_id", "users", "id", "CASCADE"),
            ("video_id", "videos", "id", "CASCADE"),
        },
        "unique": [("user_id", "video_id")],
        "indexes": [("user_id", "completed", "updated_at")],
    },
    "video_reactions": {
        "columns": {"id", "user_id", "video_id", "reaction_type", "created_at", "updated_at"},
        "foreign_keys": {
            ("user_id", "users", "id", "CASCADE"),
            ("video_id", "videos", "id", "CASCADE"),
        },
        "unique": [("user_id", "video_id")],
        "indexes": [("video_id", "reaction_type")],
    },
}
TABLES = sorted(EXPECTED)


def rows(db: peewee.Database, sql: str, *params: object) -> list[tuple]:
    return list(db.execute_sql(sql, params).fetchall())


# Each helper returns the same shape on both backends.


def columns(db: peewee.Database, backend: str, table: str) -> dict[str, bool]:
    """Column name -> nullable."""
    if backend == "sqlite":
        return {name: not notnull for _, name, _, notnull, _, _ in rows(db, f'PRAGMA table_info("{table}")')}
    return {
        name: nullable == "YES"
        for name, nullable in rows(
            db,
            "SELECT COLUMN_NAME, IS_NULLABLE FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
            table,
        )
    }


def foreign_keys(db: peewee.Database, backend: str, table: str) -> set[tuple[str, str, str, str]]:
    """(column, referenced table, referenced column, ON DELETE rule)."""
    if backend == "sqlite":
        return {
            (src, ref_table, ref_col, on_delete.upper())
            for _, _, ref_table, src, ref_col, _, on_delete, _ in rows(
                db, f'PRAGMA foreign_key_list("{table}")'
            )
        }
    return set(
        rows(
            db,
            "SELECT k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.DELETE_RULE "
            "FROM information_schema.REFERENTIAL_CONSTRAINTS r "
            "JOIN information_schema.KEY_COLUMN_USAGE k "
            "  ON k.CONSTRAINT_SCHEMA = r.CONSTRAINT_SCHEMA "
            " AND k.CONSTRAINT_NAME = r.CONSTRAINT_NAME AND k.TABLE_NAME = r.TABLE_NAME "
            "WHERE r.CONSTRAINT_SCHEMA = DATABASE() AND r.TABLE_NAME = %s",
            table,
        )
    )


def indexes(db: peewee.Database, backend: str, table: str) -> set[tuple[tuple[str, ...], bool]]:
    """(columns in index order, unique) for every index but the primary key."""
    found: dict[str, tuple[bool, list[tuple[int, str]]]] = {}
    if backend == "sqlite":
        for _, name, unique, origin, _ in rows(db, f'PRAGMA index_list("{table}")'):
            if origin == "pk":
                continue
            cols = [(seqno, col) for seqno, _, col in rows(db, f'PRAGMA index_info("{name}")')]
            found[name] = (bool(unique), cols)
    else:
        for name, non_unique, seq, col in rows(
            db,
            "SELECT INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME "
            "FROM information_schema.STATISTICS "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND INDEX_NAME <> 'PRIMARY'",
            table,
        ):
            found.setdefault(name, (not non_unique, []))[1].append((seq, col))
    return {(tuple(col for _, col in sorted(cols)), unique) for unique, cols in found.values()}


@pytest.mark.parametrize("table", TABLES)
def test_columns_and_nullability(sync_db: peewee.Database, backend: str, table: str) -> None:
    actual = columns(sync_db, backend, table)
    assert set(actual) == EXPECTED[table]["columns"]
    assert {c for c, nullable in actual.items() if nullable} == {c for t, c in NULLABLE if t == table}


@pytest.mark.parametrize("table", TABLES)
def test_foreign_keys_and_delete_rules(sync_db: peewee.Database, backend: str, table: str) -> None:
    assert foreign_keys(sync_db, backend, table) == EXPECTED[table]["foreign_keys"]


@pytest.mark.parametrize("table", TABLES)
def test_unique_and_required_indexes(sync_db: peewee.Database, backend: str, table: str) -> None:
    actual = indexes(sync_db, backend, table)
    for cols in EXPECTED[table]["unique"]:
        assert (cols, True) in actual, f"missing UNIQUE {table}{cols}"
    for cols in EXPECTED[table]["indexes"]:
        assert (cols, False) in actual, f"missing index {table}{cols}"
    # No unique index beyond the contract's: it would refuse rows the contract allows.
    assert {cols for cols, unique in actual if unique} == set(EXPECTED[table]["unique"])


@pytest.fixture
def mysql_types(sync_db: peewee.Database, backend: str) -> dict[tuple[str, str], tuple]:
    """(table, column) -> (DATA_TYPE, DATETIME_PRECISION), on MySQL/MariaDB only."""
    if backend != "mysql":
        pytest.skip("information_schema column types are a MySQL/MariaDB check")
    return {
        (table, col): (data_type, precision)
        for table, col, data_type, precision in rows(
            sync_db,
            "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, DATETIME_PRECISION "
            "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()",
        )
    }


@pytest.mark.parametrize("table", ["video_progress", "video_reactions"])
def test_progress_and_reaction_ids_are_bigint(mysql_types: dict, table: str) -> None:
    assert mysql_types[(table, "id")][0] == "bigint"


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("column", ["created_at", "updated_at"])
def test_timestamps_are_datetime6(mysql_types: dict, table: str, column: str) -> None:
    assert mysql_types[(table, column)] == ("datetime", 6)
