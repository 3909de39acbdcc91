"""Applies the numbered scripts in migrations/ with peewee's own Runner."""

from __future__ import annotations

from pathlib import Path

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


def rollback(db: peewee.Database, steps: int) -> list[str]:
    """Undo the last `steps` applied migrations, newest first; returns their names."""
    r = runner(db)
    undone: list[str] = []
    for _ in range(steps):
        if not any(m.applied for m in r.status()):
            break
        undone.extend(r.down())
    return undone


def pending(db: peewee.Database) -> list[str]:
    return [m.name for m in runner(db).status() if not m.applied]
