"""Which database to talk to, from DATABASE_URL, and the proxy every model is bound to."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import peewee
from playhouse.pwasyncio import AsyncMySQLDatabase, AsyncSqliteDatabase

DEFAULT_URL = "sqlite:///videolib.db"

# Bound once per process (or per test) by bind(); models never name a concrete database.
database_proxy = peewee.DatabaseProxy()


class ConfigError(Exception):
    """A configuration problem worth one clear line to the operator."""


@dataclass(frozen=True)
class DatabaseConfig:
    backend: str  # "sqlite" | "mysql"
    name: str  # file path for SQLite, database name for MySQL
    host: str = "127.0.0.1"
    port: int = 3306
    user: str = "root"
    password: str = ""

    @property
    def is_sqlite(self) -> bool:
        return self.backend == "sqlite"

    def with_name(self, name: str) -> DatabaseConfig:
        return DatabaseConfig(self.backend, name, self.host, self.port, self.user, self.password)

    def describe(self) -> str:
        """The URL without its password, safe to print."""
        if self.is_sqlite:
            return f"sqlite:///{self.name}"
        return f"mysql://{self.user}@{self.host}:{self.port}/{self.name}"


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_URL


def parse_url(url: str) -> DatabaseConfig:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"DATABASE_URL is malformed: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute/path.db, as in SQLAlchemy.
        path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if parts.netloc or not path:
            raise ConfigError(
                "DATABASE_URL for SQLite must look like sqlite:///videolib.db or sqlite:////absolute/path.db"
            )
        return DatabaseConfig("sqlite", path)
    if scheme in ("mysql", "mariadb"):
        name = unquote(parts.path.lstrip("/"))
        if not parts.hostname or not name or "/" in name:
            raise ConfigError("DATABASE_URL for MySQL must look like mysql://user:password@host:port/dbname")
        return DatabaseConfig(
            "mysql",
            name,
            host=parts.hostname,
            port=port or 3306,
            user=unquote(parts.username or "root"),
            password=unquote(parts.password or ""),
        )
    raise ConfigError(
        f"DATABASE_URL scheme {parts.scheme or '(none)'!r} is not supported: "
        "use sqlite:///path.db or mysql://user:password@host:port/dbname"
    )


# foreign_keys: without it SQLite silently ignores RESTRICT and CASCADE.
# WAL: readers do not block the writer. busy_timeout: writers queue instead of failing.
SQLITE_PRAGMAS = (
    ("foreign_keys", 1),
    ("journal_mode", "wal"),
    ("busy_timeout", 5000),
    ("synchronous", "normal"),
)

MYSQL_OPTIONS: dict[str, Any] = {
    "charset": "utf8mb4",
    # Naive datetimes in the database are UTC; make NOW() agree.
    "init_command": "SET time_zone = '+00:00'",
}


def _unicode_lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value


# SQLite's own lower() folds ASCII only; search must fold "Émile" like MySQL's collations do.
UNICODE_LOWER = "unicode_lower"


def _with_functions(db: peewee.SqliteDatabase) -> peewee.SqliteDatabase:
    db.register_function(_unicode_lower, UNICODE_LOWER, 1, deterministic=True)
    return db


def make_sync_database(config: DatabaseConfig) -> peewee.Database:
    """For the CLI, migrations and tests: plain blocking peewee."""
    if config.is_sqlite:
        return _with_functions(peewee.SqliteDatabase(config.name, pragmas=SQLITE_PRAGMAS))
    return peewee.MySQLDatabase(
        config.name,
        host=config.host,
        port=config.port,
        user=config.user,
        password=config.password,
        **MYSQL_OPTIONS,
    )


def make_async_database(config: DatabaseConfig, pool_size: int = 10) -> Any:
    # Any: pwasyncio ships no type information.
    """For the server: peewee's asyncio API, so no query blocks the event loop."""
    if config.is_sqlite:
        return _with_functions(AsyncSqliteDatabase(config.name, pragmas=SQLITE_PRAGMAS, pool_size=pool_size))
    return AsyncMySQLDatabase(
        config.name,
        host=config.host,
        port=config.port,
        user=config.user,
        password=config.password,
        pool_size=pool_size,
        **MYSQL_OPTIONS,
    )


def bind(db: Any) -> Any:
    database_proxy.initialize(db)
    return db


def current() -> Any:
    """The bound database: in the server, an AsyncDatabase (typed Any: pwasyncio has no stubs)."""
    db = database_proxy.obj
    if db is None:
        raise RuntimeError("no database bound: call models.database.bind() first")
    return db


def ensure_sqlite_parent(config: DatabaseConfig) -> None:
    if config.is_sqlite and config.name != ":memory:":
        Path(config.name).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
