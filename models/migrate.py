"""Applies the numbered scripts in migrations/ with peewee's own Runner."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import peewee
from playhouse.migrations import Runner

from models.database import ConfigError

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def runner(db: peewee.Database) -> Runner:
    r = Runner(db, directory=str(MIGRATIONS_DIR))
    if not r.migrations():  # an install without its scripts would report "up to date" on an empty db
        raise ConfigError(f"no migration scripts found in {MIGRATIONS_DIR}")
    return r


def apply(db: peewee.Database) -> list[str]:
    """Apply every pending migration; returns the names applied."""
    return list(runner(db).up())


class RollbackRefused(Exception):
    """A rollback that would undo more migrations than are applied, or drop rows unasked."""


@dataclass(frozen=True)
class RollbackPlan:
    names: list[str]  # the migrations to undo, newest first
    rows: dict[str, int]  # the tables their down() drops that hold rows, and how many
    unknown: list[str]  # migrations whose down() does not say which tables it drops


def _dropped_tables(module: ModuleType, db: peewee.Database) -> list[str] | None:
    """The tables a migration's down() drops: every script here creates the tables of its frozen
    `_models(db)` in up() and drops them in down(). None for a script that does something else."""
    models = getattr(module, "_models", None)
    if models is None:
        return None
    return [model._meta.table_name for model in models(db)]


def plan_rollback(db: peewee.Database, steps: int) -> RollbackPlan:
    """What undoing the last `steps` migrations would do; refuses more steps than are applied."""
    applied = [m for m in runner(db).status() if m.applied]
    if steps > len(applied):
        undo_all = f" (`videolib migrate --rollback {len(applied)}` undoes them all)" if applied else ""
        raise RollbackRefused(
            f"cannot roll back {steps} migration{'s' if steps != 1 else ''}: "
            f"{len(applied) or 'none'} {'is' if len(applied) < 2 else 'are'} applied{undo_all}"
        )
    chosen = list(reversed(applied))[:steps]
    rows: dict[str, int] = {}
    unknown: list[str] = []
    for migration in chosen:
        if migration.path is None:
            continue  # Runner.down() refuses it, with its own message
        tables = _dropped_tables(migration.load(), db)
        if tables is None:
            unknown.append(migration.name)
            continue
        for table in tables:
            if db.table_exists(table):
                count = peewee.Table(table).select(peewee.fn.COUNT(peewee.SQL("*"))).bind(db).scalar()
                if count:
                    rows[table] = int(count)
    return RollbackPlan([m.name for m in chosen], rows, unknown)


def rollback(db: peewee.Database, steps: int, *, drop_rows: bool = False) -> list[str]:
    """Undo the last `steps` applied migrations, newest first; returns their names.

    Refuses (RollbackRefused, before undoing anything) more steps than are applied, and, unless
    `drop_rows`, a rollback that would drop a table holding rows or that cannot say what it drops.
    """
    plan = plan_rollback(db, steps)
    if not drop_rows and (plan.rows or plan.unknown):
        held = ", ".join(f"{table} ({n} row{'s' if n != 1 else ''})" for table, n in plan.rows.items())
        what = [f"drop tables that hold rows: {held}"] if held else []
        what += [f"run {name}'s down(), which may drop data" for name in plan.unknown]
        raise RollbackRefused(
            f"rolling back {', '.join(plan.names)} would {'; and '.join(what)}. "
            "Run it again with --yes to go ahead"
        )
    r = runner(db)
    undone: list[str] = []
    for _ in plan.names:
        undone.extend(r.down())
    return undone


def pending(db: peewee.Database) -> list[str]:
    return [m.name for m in runner(db).status() if not m.applied]
