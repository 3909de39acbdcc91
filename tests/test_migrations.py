"""The numbered migrations: each one applies, rolls back and re-applies cleanly, on both backends."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import peewee
import pytest

from models import migrate
from models.database import DatabaseConfig, make_sync_database

CONTRACT_TABLES = {"users", "video_categories", "videos", "video_progress", "video_reactions"}
EXPECTED_TABLES = CONTRACT_TABLES | {"access_tokens"}
HISTORY_TABLE = "schema_migration"


@pytest.fixture
def fresh_db(fresh_db_config: DatabaseConfig) -> Iterator[peewee.Database]:
    db = make_sync_database(fresh_db_config)
    yield db
    db.close()


def tables(db: peewee.Database) -> set[str]:
    return set(db.get_tables())


def migration_names(db: peewee.Database) -> list[str]:
    return [m.name for m in migrate.runner(db).migrations()]


def test_each_migration_rolls_back_and_reapplies(fresh_db: peewee.Database) -> None:
    names = migration_names(fresh_db)
    assert names == sorted(names, key=lambda n: int(n.split("_", 1)[0]))
    assert tables(fresh_db) == set()

    created: dict[str, set[str]] = {}
    for name in names:
        before = tables(fresh_db) | {HISTORY_TABLE}
        assert migrate.runner(fresh_db).up(name) == [name]
        after = tables(fresh_db)
        created[name] = after - before
        assert created[name], f"{name} created no table"

        assert migrate.rollback(fresh_db, 1) == [name]
        assert tables(fresh_db) == before, f"{name} left tables behind after rollback"
        assert migrate.pending(fresh_db) == names[names.index(name) :]

        assert migrate.runner(fresh_db).up(name) == [name]
        assert tables(fresh_db) == after

    all_created = set().union(*created.values())
    assert all_created >= EXPECTED_TABLES
    assert tables(fresh_db) == all_created | {HISTORY_TABLE}

    assert migrate.rollback(fresh_db, len(names)) == list(reversed(names))
    assert tables(fresh_db) == {HISTORY_TABLE}
    assert migrate.pending(fresh_db) == names
    # Nothing left to undo: refused rather than "done".
    with pytest.raises(migrate.RollbackRefused, match="cannot roll back 1 migration: none is applied"):
        migrate.rollback(fresh_db, 1)

    assert migrate.apply(fresh_db) == names
    assert tables(fresh_db) == all_created | {HISTORY_TABLE}


def test_pending_and_apply_is_idempotent(fresh_db: peewee.Database) -> None:
    names = migration_names(fresh_db)
    assert len(names) >= len(EXPECTED_TABLES)
    assert migrate.pending(fresh_db) == names

    assert migrate.apply(fresh_db) == names
    assert migrate.pending(fresh_db) == []
    assert tables(fresh_db) >= EXPECTED_TABLES | {HISTORY_TABLE}

    assert migrate.apply(fresh_db) == []
    assert migrate.pending(fresh_db) == []

    assert migrate.rollback(fresh_db, 2) == list(reversed(names[-2:]))
    assert migrate.pending(fresh_db) == names[-2:]
    assert migrate.apply(fresh_db) == names[-2:]


def test_rollback_refuses_more_steps_than_are_applied(fresh_db: peewee.Database) -> None:
    names = migration_names(fresh_db)
    assert migrate.runner(fresh_db).up(names[2]) == names[:3]
    before = tables(fresh_db)
    with pytest.raises(migrate.RollbackRefused, match=r"cannot roll back 4 migrations: 3 are applied"):
        migrate.rollback(fresh_db, 4)
    assert tables(fresh_db) == before
    assert migrate.pending(fresh_db) == names[3:]
    assert migrate.rollback(fresh_db, 3) == list(reversed(names[:3]))
    assert tables(fresh_db) == {HISTORY_TABLE}


def test_rollback_names_the_tables_with_rows_it_would_drop(fresh_db: peewee.Database) -> None:
    names = migration_names(fresh_db)
    migrate.apply(fresh_db)
    fresh_db.execute_sql(
        "INSERT INTO users (email, password_hash, display_name) VALUES ('a@example.com', 'x', 'A'), "
        "('b@example.com', 'x', 'B')"
    )
    fresh_db.execute_sql("INSERT INTO video_categories (name, slug) VALUES ('Nature', 'nature')")

    # The five newest hold no rows: no question asked.
    plan = migrate.plan_rollback(fresh_db, 4)
    assert plan.names == list(reversed(names))[:4] and plan.rows == {} and plan.unknown == []
    # All six: users and video_categories hold rows, counted.
    plan = migrate.plan_rollback(fresh_db, len(names))
    assert plan.rows == {"video_categories": 1, "users": 2}

    before = tables(fresh_db)
    with pytest.raises(migrate.RollbackRefused) as refused:
        migrate.rollback(fresh_db, len(names))
    assert str(refused.value) == (
        f"rolling back {', '.join(reversed(names))} would drop tables that hold rows: "
        "video_categories (1 row), users (2 rows). Run it again with --yes to go ahead"
    )
    assert tables(fresh_db) == before  # refused before anything was undone
    assert migrate.rollback(fresh_db, len(names), drop_rows=True) == list(reversed(names))
    assert tables(fresh_db) == {HISTORY_TABLE}


def _migration_files() -> list[Path]:
    files = sorted(migrate.MIGRATIONS_DIR.glob("[0-9]*.py"))
    assert len(files) >= len(EXPECTED_TABLES)
    return files


@pytest.mark.parametrize("path", _migration_files(), ids=lambda p: p.stem)
def test_migration_file_is_frozen_and_reversible(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert {"up", "down"} <= functions

    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add("." * node.level + (node.module or ""))
    frozen_violations = {m for m in imported if m == "models" or m.startswith(("models.", "."))}
    assert not frozen_violations, f"{path.name} imports {frozen_violations}"
