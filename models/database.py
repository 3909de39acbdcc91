"""Which database to talk to, from DATABASE_URL, and the proxy every model is bound to."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import re
import time
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import peewee
import pymysql
import pymysql.constants
import pymysql.converters
from playhouse.pwasyncio import AsyncMySQLConnection, AsyncMySQLDatabase, AsyncSqliteDatabase

from models.collation import general_ci_key

DEFAULT_URL = "sqlite:///videolib.db"

log = logging.getLogger("videolib.database")

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

def _fast_datetime(text: str) -> Any:
    # PyMySQL parses DATETIME with a regular expression, about 4.7 µs a value; fromisoformat
    # takes 0.3 µs, and a home screen reads some 3,000 of them. Anything it refuses (zero
    # dates, odd lengths) gets PyMySQL's own answer.
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return pymysql.converters.convert_datetime(text)


MYSQL_CONVERTERS = {
    **pymysql.converters.conversions,
    pymysql.constants.FIELD_TYPE.DATETIME: _fast_datetime,
    pymysql.constants.FIELD_TYPE.TIMESTAMP: _fast_datetime,
}

MYSQL_OPTIONS: dict[str, Any] = {
    "charset": "utf8mb4",
    # Naive datetimes in the database are UTC; make NOW() agree.
    "init_command": "SET time_zone = '+00:00'",
    "conv": MYSQL_CONVERTERS,
}


def _unicode_lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value


# SQLite's own lower() folds ASCII only; search must fold "Émile" like MySQL's collations do.
UNICODE_LOWER = "unicode_lower"


# MariaDB's email collation for SQLite (models/collation.py), so SQL can compare emails alike.
GENERAL_CI_KEY = "videolib_general_ci_key"


def _general_ci_key(value: str | None) -> str | None:
    return general_ci_key(value) if isinstance(value, str) else value


def _with_functions(db: peewee.SqliteDatabase) -> peewee.SqliteDatabase:
    db.register_function(_unicode_lower, UNICODE_LOWER, 1, deterministic=True)
    db.register_function(_general_ci_key, GENERAL_CI_KEY, 1, deterministic=True)
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


class StatementLimitExceeded(peewee.OperationalError):
    """A request tried to run more statements than its budget allows. The cost rule
    (schema/limits.py) refuses such requests before they run; this is the backstop."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} SQL statements")
        self.limit = limit


class DatabaseBusy(peewee.OperationalError):
    """No connection came free within the wait allowed: the server is overloaded, not broken."""

    def __init__(self, waited: float) -> None:
        super().__init__(f"no database connection came free within {waited:g}s")
        self.waited = waited


@dataclass(eq=False)
class StatementBudget:
    """What one request's statements have cost so far, and what they may cost.

    Shared, not copied, by every task of the request: pwasyncio runs peewee's sync code in
    greenlets that inherit the awaiting task's context, so the budget set at the start of a
    request sees every statement its resolvers and loaders issue (the access log and /metrics
    report `count` and `seconds`)."""

    # At most this many statements (None: no limit).
    limit: int | None = None
    # At most this many connections held at once, so that one request cannot take the whole pool.
    connections: int | None = None
    count: int = 0
    # Wall time spent waiting for answers, summed over statements (parallel ones add up).
    seconds: float = 0.0
    _slots: asyncio.Semaphore | None = None

    def slots(self) -> asyncio.Semaphore | None:
        if self.connections is not None and self._slots is None:
            self._slots = asyncio.Semaphore(self.connections)
        return self._slots


statement_budget: ContextVar[StatementBudget | None] = ContextVar("statement_budget", default=None)


async def _take(slots: asyncio.Semaphore, wait: float) -> None:
    try:
        async with asyncio.timeout(wait):
            await slots.acquire()
    except TimeoutError:
        raise DatabaseBusy(wait) from None


class _Counted:
    """Counts and times every statement, and bounds connections per request and per process.

    A request waits for a connection in line (FIFO, like asyncio.Semaphore) for up to
    `busy_wait` seconds, then fails with DatabaseBusy; pwasyncio's own acquire_timeout is left to
    bound connecting, which can only be slow when the database is."""

    busy_wait: float = 10.0
    _pool_slots: asyncio.Semaphore | None = None

    # pwasyncio's sync execute_sql goes through aexecute_sql too: counting here sees every
    # statement once, whichever way it was sent.
    async def aexecute_sql(self, sql: str, params: Any = None) -> Any:
        budget = statement_budget.get()
        if budget is None:
            return await super().aexecute_sql(sql, params)  # type: ignore[misc]
        if budget.limit is not None and budget.count >= budget.limit:
            raise StatementLimitExceeded(budget.limit)
        budget.count += 1
        started = time.perf_counter()
        try:
            return await super().aexecute_sql(sql, params)  # type: ignore[misc]
        finally:
            budget.seconds += time.perf_counter() - started

    async def _acquire_conn_async(self) -> Any:
        if self._pool_slots is None:
            self._pool_slots = asyncio.Semaphore(self._pool_size)  # type: ignore[attr-defined]
        budget = statement_budget.get()
        mine = budget.slots() if budget is not None else None
        # The request's own slot first: a request at its bound waits without holding a pool slot.
        if mine is not None:
            await _take(mine, self.busy_wait)
        try:
            await _take(self._pool_slots, self.busy_wait)
        except BaseException:
            if mine is not None:
                mine.release()
            raise
        try:
            conn = await super()._acquire_conn_async()  # type: ignore[misc]
        except BaseException:
            self._pool_slots.release()
            if mine is not None:
                mine.release()
            raise
        # Released with the connection, whichever task or callback hands it back.
        conn._videolib_slots = (self._pool_slots, mine)
        return conn

    async def _release_conn(self, conn: Any) -> None:
        try:
            await super()._release_conn(conn)  # type: ignore[misc]
        finally:
            slots = getattr(conn, "_videolib_slots", None)
            if slots is not None:
                conn._videolib_slots = None  # exactly once, even if released twice
                for semaphore in slots:
                    if semaphore is not None:
                        semaphore.release()


class CountedSqliteDatabase(_Counted, AsyncSqliteDatabase):
    pass


class CountedMySQLDatabase(_Counted, AsyncMySQLDatabase):
    pass


# A connection that is gone: the client's CR_SERVER_GONE_ERROR (2006), CR_SERVER_LOST (2013),
# CR_SERVER_LOST_EXTENDED (2055) and aiomysql's "not connected" (0), and the server's notices that
# it ended the session itself: MariaDB's "connection was killed" (1927), MySQL 8's idle disconnect
# (4031). Not "can't connect" (2003): the database is down, and asking again only doubles the wait.
LOST_CONNECTION_ERRORS = frozenset({0, 2006, 2013, 2055, 1927, 4031})
_CONNECTION_ERRORS = (
    peewee.OperationalError,
    peewee.InterfaceError,
    pymysql.err.OperationalError,
    pymysql.err.InterfaceError,
)


def lost_connection(exc: BaseException) -> bool:
    """Whether `exc` says the connection died (killed, timed out, cut), not that a statement failed.
    Takes the driver's exceptions and peewee's wrappings of them alike."""
    if not isinstance(exc, _CONNECTION_ERRORS):
        return False
    code = exc.args[0] if exc.args else None
    # aiomysql raises InterfaceError("(0, 'Not connected')"): the code is inside the message.
    return code in LOST_CONNECTION_ERRORS or "Not connected" in str(exc)


class DatabaseTimeout(peewee.OperationalError):
    """The database did not answer in time. Never retried: it may be down or partitioned away,
    or busy with a slow statement, and asking again would only double the wait or the load."""


class _TimedMySQLConnection(AsyncMySQLConnection):
    """Bounds every round trip, including BEGIN/COMMIT/ROLLBACK, which peewee sends through the
    connection's cursor rather than execute_sql. aiomysql has no read timeout of its own: without
    this a database that stops answering (a black-holed network) hangs the request forever."""

    def __init__(self, conn: Any, db: ResilientMySQLDatabase) -> None:
        super().__init__(conn)
        self.db = db

    async def execute(self, sql: str, params: Any = None) -> Any:
        # asyncio.timeout, not wait_for: wait_for runs the statement in a task of its own, and
        # pwasyncio picks the connection by task, so it would leave the transaction's connection.
        deadline = asyncio.timeout(self.db.read_timeout)
        try:
            async with deadline:
                return await super().execute(sql, params)
        except TimeoutError:
            if not deadline.expired():
                raise
            # The answer may still arrive and would be read as the next statement's: never reuse
            # this connection. (aiomysql closes it when cancelled mid-read; this covers the rest.)
            if self.conn is not None:
                self.conn.close()
            raise DatabaseTimeout(f"the database did not answer within {self.db.read_timeout:g}s") from None
        except Exception as exc:
            if lost_connection(exc):
                await self.db.drop_idle_connections()
            raise


# The first keyword of a statement that only reads: SELECT, or a parenthesised SELECT of a UNION.
_READ_ONLY = re.compile(r"\s*\(*\s*SELECT\b", re.IGNORECASE)


class ResilientMySQLDatabase(CountedMySQLDatabase):
    """Bounded waits for a connection and for every answer, and a read that meets a dead
    connection is asked once more on a fresh one."""

    def __init__(self, database: str, *, read_timeout: float, **kwargs: Any) -> None:
        self.read_timeout = read_timeout
        super().__init__(database, **kwargs)

    async def _pool_acquire(self, pool: Any) -> Any:
        plain = await super()._pool_acquire(pool)
        return _TimedMySQLConnection(plain.conn, self)

    async def drop_idle_connections(self) -> None:
        """Close the pool's idle connections. One found dead says the others idle as long most
        likely are too (an idle timeout, a restart, a failover, a NAT that forgot them), and
        aiomysql only notices a hang-up that reached it: a retry must get a new connection."""
        pool = self._pool
        if pool is None:
            return
        for _ in range(self._pool_size + 1):
            try:
                async with asyncio.timeout(self.read_timeout):
                    await pool.clear()
                return
            except TimeoutError:
                break
            except Exception:
                # Saying goodbye on a dead connection can fail; clear() has dropped that one.
                continue
        log.warning("could not close the idle database connections")

    async def aexecute_sql(self, sql: str, params: Any = None) -> Any:
        try:
            return await super().aexecute_sql(sql, params)
        except (peewee.OperationalError, peewee.InterfaceError) as exc:
            # Only a read outside a transaction is safe to repeat: a write may have been applied
            # before the connection died, and a transaction's connection took its work with it
            # (resolvers/db.py's transaction() repeats a whole transaction when that is safe).
            if not lost_connection(exc) or self.in_transaction() or not _READ_ONLY.match(sql):
                raise
            log.warning("lost the database connection (%s); reading again on a fresh one", exc)
        # The dead connection is closed and the idle ones are gone (_TimedMySQLConnection), so
        # pwasyncio's aconnect() opens a new one.
        return await super().aexecute_sql(sql, params)


def make_async_database(
    config: DatabaseConfig,
    pool_size: int = 10,
    *,
    connect_timeout: float = 3.0,
    read_timeout: float = 10.0,
) -> Any:
    # Any: pwasyncio ships no type information.
    """For the server: peewee's asyncio API, so no query blocks the event loop.

    MySQL: `connect_timeout` bounds getting a connection, new or pooled, `read_timeout` every
    answer, so an unreachable database fails a request in seconds, never hangs it. (SQLite is a
    local file: busy_timeout bounds its waits.)"""
    db: Any
    if config.is_sqlite:
        db = _with_functions(CountedSqliteDatabase(config.name, pragmas=SQLITE_PRAGMAS, pool_size=pool_size))
        # A request waits this long in line for a connection before "the server is busy".
        db.busy_wait = read_timeout
        return db
    db = ResilientMySQLDatabase(
        config.name,
        read_timeout=read_timeout,
        host=config.host,
        port=config.port,
        user=config.user,
        password=config.password,
        pool_size=pool_size,
        # aiomysql's connect_timeout covers the TCP connect only, not the handshake that follows;
        # pwasyncio's acquire_timeout bounds the whole of it (and a wait for a free pooled
        # connection: aiomysql connects under the pool's lock, so the two waits are one anyway).
        connect_timeout=connect_timeout,
        acquire_timeout=connect_timeout,
        **MYSQL_OPTIONS,
    )
    db.busy_wait = read_timeout
    return db


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
