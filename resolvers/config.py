"""Process settings read from the environment once, at start-up."""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.database import ConfigError, DatabaseConfig, database_url, parse_url

log = logging.getLogger("videolib")

SECRET_ENV = "VIDEOLIB_SECRET_KEY"
MIN_SECRET_LENGTH = 32


@dataclass(frozen=True)
class Limits:
    """What one request may cost. Each has an environment variable (ENVIRONMENT below)."""

    # The contract's screens nest at most 8 deep (home: categories > videos > edges > node >
    # reactions > counts > type), so 10 leaves room for a fragment wrapper or two.
    max_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 5_000
    # Estimated fields returned (schema/limits.py): 50 categories x 25 videos with reactions and
    # progress is about 60,000; a nested page of pages is millions.
    max_cost: int = 250_000
    max_body_bytes: int = 256 * 1024
    # Estimated SQL statements per operation (schema/limits.py), a search weighing SEARCH_WEIGHT;
    # the home screen is estimated at 16 and runs 9. Also enforced as statements actually run.
    max_statements: int = 30
    # Database connections one request may hold at once, out of the pool's db_pool_size.
    request_connections: int = 4
    # Mutation fields per request, through fragments and batches: viewer writes (saveProgress,
    # clearProgress, react, unreact, recordView, logout) and admin writes (the catalogue's).
    # register and login are one per request, always (schema/limits.py).
    max_viewer_writes: int = 5
    max_admin_writes: int = 5
    # Operations in one HTTP request sent as a JSON array; 0 turns batching off.
    max_batch: int = 0
    # Failed logins counted per email and per client address over a sliding window.
    login_failures_per_email: int = 5
    login_failures_per_address: int = 30
    login_window_seconds: int = 900


@dataclass(frozen=True)
class PersistedLimits:
    """What the persisted-query store (schema/http/persisted.py) may hold. Each has an environment
    variable (PERSISTED_ENVIRONMENT below)."""

    # A document registered by hash. The contract's screens and GraphiQL's examples are under
    # 1 KB, the body limit is 256 KiB; comments are free of VIDEOLIB_MAX_TOKENS.
    max_document_bytes: int = 32 * 1024
    # The in-memory LRU of each process: an entry counts both strings as Python holds them
    # (sys.getsizeof of the hash and of the text) plus 160 bytes for the LRU itself.
    memory_bytes: int = 8 * 1024 * 1024
    # Documents kept: in memory by each process, or in Redis for all of them together.
    max_entries: int = 2_000
    # Redis only: a document is dropped this long after its last use (each use starts it again).
    ttl_seconds: int = 24 * 3600
    # Redis keys start with this. Not an environment variable: it is for tests, which need keys
    # (and an index to trim) of their own.
    redis_prefix: str = "videolib:apq:"


@dataclass(frozen=True)
class Connections:
    """What slow or idle clients may hold of a `serve` process (each worker has its own share).

    The server bounds them itself, so that it holds up without a reverse proxy in front; a proxy
    should still bound them tighter, per client address (README: behind a reverse proxy)."""

    # Open connections per worker: beyond them a request is answered 503 (uvicorn's
    # limit_concurrency, which counts connections and running requests alike).
    max_connections: int = 500
    # An idle keep-alive connection is closed this long after its last response.
    keepalive_seconds: float = 5.0
    # From a connection's opening, or the first byte of its next request, to the end of that
    # request's headers: a client trickling headers is cut off (schema/http/transport.py).
    header_timeout_seconds: float = 10.0
    # From the end of the headers to the end of the body: after it, 408 (schema/http/deadlines.py).
    body_timeout_seconds: float = 30.0


@dataclass(frozen=True)
class Settings:
    database: DatabaseConfig
    secret_key: bytes
    token_ttl_seconds: int = 30 * 24 * 3600
    limits: Limits = Limits()
    # Off turns off GraphiQL too: it cannot work without introspection.
    introspection: bool = True
    # Origins allowed to call the API from a browser (CORS); none by default.
    cors_origins: tuple[str, ...] = ()
    # Bounded so that an unreachable database fails a request promptly instead of hanging it.
    db_connect_timeout: float = 3.0
    db_read_timeout: float = 10.0
    # Connections each process keeps to the database; a request waits in line for one for up to
    # db_read_timeout, then fails as "the server is busy".
    db_pool_size: int = 10
    # Persisted queries are shared through Redis when set; otherwise each process keeps its own.
    redis_url: str | None = None
    persisted: PersistedLimits = PersistedLimits()
    # Plain-data objects completed by compiled plans (schema/execution/); off: graphql-core alone.
    compiled_execution: bool = True
    connections: Connections = Connections()


# Environment variable -> Limits field.
ENVIRONMENT = {
    "VIDEOLIB_MAX_DEPTH": "max_depth",
    "VIDEOLIB_MAX_ALIASES": "max_aliases",
    "VIDEOLIB_MAX_TOKENS": "max_tokens",
    "VIDEOLIB_MAX_COST": "max_cost",
    "VIDEOLIB_MAX_BODY_BYTES": "max_body_bytes",
    "VIDEOLIB_MAX_STATEMENTS": "max_statements",
    "VIDEOLIB_REQUEST_CONNECTIONS": "request_connections",
    "VIDEOLIB_MAX_VIEWER_WRITES": "max_viewer_writes",
    "VIDEOLIB_MAX_ADMIN_WRITES": "max_admin_writes",
    "VIDEOLIB_MAX_BATCH": "max_batch",
    "VIDEOLIB_LOGIN_FAILURES_PER_EMAIL": "login_failures_per_email",
    "VIDEOLIB_LOGIN_FAILURES_PER_ADDRESS": "login_failures_per_address",
    "VIDEOLIB_LOGIN_WINDOW_SECONDS": "login_window_seconds",
}
# Those that must be at least 1 (0 would refuse every request).
POSITIVE = frozenset(ENVIRONMENT) - {"VIDEOLIB_MAX_BATCH"}


def _whole_number(name: str, text: str, floor: int | None = None) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {text!r}") from None
    if floor is None:
        floor = 1 if name in POSITIVE else 0
    if value < floor:
        raise ConfigError(f"{name} must be at least {floor}, got {value}")
    return value


def _seconds(name: str, text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {text!r}") from None
    if not value > 0:
        raise ConfigError(f"{name} must be more than 0 seconds, got {text!r}")
    return value


def _flag(name: str, text: str) -> bool:
    value = text.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {text!r}")


def _origins(text: str) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in text.split(",") if o.strip())
    for origin in origins:
        if origin == "*" or "://" not in origin:
            raise ConfigError(
                f"VIDEOLIB_CORS_ORIGINS lists full origins such as https://app.example.com, got {origin!r}"
            )
    return origins


def load_limits(env: dict[str, str]) -> Limits:
    given = {field: _whole_number(name, env[name]) for name, field in ENVIRONMENT.items() if env.get(name)}
    return Limits(**given)


# Environment variable -> PersistedLimits field; each is at least 1.
PERSISTED_ENVIRONMENT = {
    "VIDEOLIB_PERSISTED_MAX_DOCUMENT_BYTES": "max_document_bytes",
    "VIDEOLIB_PERSISTED_MEMORY_BYTES": "memory_bytes",
    "VIDEOLIB_PERSISTED_MAX_ENTRIES": "max_entries",
    "VIDEOLIB_PERSISTED_TTL_SECONDS": "ttl_seconds",
}


def load_persisted(env: dict[str, str]) -> PersistedLimits:
    given: dict[str, Any] = {
        field: _whole_number(name, env[name], floor=1)
        for name, field in PERSISTED_ENVIRONMENT.items()
        if env.get(name)
    }
    return PersistedLimits(**given)


# Environment variable -> Connections field, and whether it is a count (else seconds).
CONNECTION_ENVIRONMENT = {
    "VIDEOLIB_MAX_CONNECTIONS": ("max_connections", True),
    "VIDEOLIB_KEEPALIVE_SECONDS": ("keepalive_seconds", False),
    "VIDEOLIB_HEADER_TIMEOUT_SECONDS": ("header_timeout_seconds", False),
    "VIDEOLIB_BODY_TIMEOUT_SECONDS": ("body_timeout_seconds", False),
}


def load_connections(env: dict[str, str]) -> Connections:
    """Also read on its own by the HTTP protocol of each `serve` worker, which gets no Settings."""
    given: dict[str, Any] = {}
    for name, (field, count) in CONNECTION_ENVIRONMENT.items():
        if env.get(name):
            given[field] = _whole_number(name, env[name], floor=1) if count else _seconds(name, env[name])
    return Connections(**given)


def _secret_file(config: DatabaseConfig) -> Path:
    path = Path(config.name).expanduser().resolve()
    return path.with_name(path.name + ".secret")


def load_secret(config: DatabaseConfig) -> bytes:
    value = os.environ.get(SECRET_ENV, "")
    if value:
        if len(value) < MIN_SECRET_LENGTH:
            raise ConfigError(f"{SECRET_ENV} must be at least {MIN_SECRET_LENGTH} characters long")
        return value.encode()
    if not config.is_sqlite or config.name == ":memory:":
        if config.is_sqlite:
            # A throwaway in-memory database gets a throwaway key.
            return secrets.token_urlsafe(48).encode()
        raise ConfigError(f"{SECRET_ENV} is required when DATABASE_URL is not SQLite")
    path = _secret_file(config)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and linked into place: a process starting at the same moment sees either
        # no file or the whole key, and exactly one key wins (link fails when the file exists).
        draft = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)
            log.warning(
                "%s is not set: generated a secret key in %s (mode 0600). Set %s in production.",
                SECRET_ENV,
                path,
                SECRET_ENV,
            )
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    key = path.read_text().strip()
    if len(key) < MIN_SECRET_LENGTH:
        raise ConfigError(f"{path} holds no usable secret key: delete it to have a new one generated")
    return key.encode()


def load_settings(url: str | None = None) -> Settings:
    env = dict(os.environ)
    config = parse_url(url or database_url())
    optional: dict[str, Any] = {}
    if env.get("VIDEOLIB_INTROSPECTION"):
        optional["introspection"] = _flag("VIDEOLIB_INTROSPECTION", env["VIDEOLIB_INTROSPECTION"])
    if env.get("VIDEOLIB_COMPILED_EXECUTION"):
        optional["compiled_execution"] = _flag(
            "VIDEOLIB_COMPILED_EXECUTION", env["VIDEOLIB_COMPILED_EXECUTION"]
        )
    if env.get("VIDEOLIB_DB_CONNECT_TIMEOUT"):
        optional["db_connect_timeout"] = _seconds(
            "VIDEOLIB_DB_CONNECT_TIMEOUT", env["VIDEOLIB_DB_CONNECT_TIMEOUT"]
        )
    if env.get("VIDEOLIB_DB_POOL_SIZE"):
        pool = env["VIDEOLIB_DB_POOL_SIZE"]
        optional["db_pool_size"] = _whole_number("VIDEOLIB_DB_POOL_SIZE", pool, floor=1)
    if env.get("VIDEOLIB_DB_READ_TIMEOUT"):
        optional["db_read_timeout"] = _seconds("VIDEOLIB_DB_READ_TIMEOUT", env["VIDEOLIB_DB_READ_TIMEOUT"])
    return Settings(
        database=config,
        secret_key=load_secret(config),
        limits=load_limits(env),
        cors_origins=_origins(env.get("VIDEOLIB_CORS_ORIGINS", "")),
        redis_url=env.get("REDIS_URL") or None,
        persisted=load_persisted(env),
        connections=load_connections(env),
        **optional,
    )
